import time

import pytest

from codecfake_hf.files import hub_io


def test_fetch_offline_fails_fast_and_names_the_files():
    start = time.monotonic()
    with pytest.raises(hub_io.CheckpointUnavailableError) as info:
        hub_io.fetch_files("facebook/encodec_24khz", ("config.json", "model.safetensors"))
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "config.json model.safetensors" in message
    assert "`hf download facebook/encodec_24khz config.json model.safetensors`" in message
    assert "huggingface-cli" not in message  # huggingface_hub 2.x installs `hf`, not huggingface-cli


def test_fetch_from_a_local_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "b.pt").write_bytes(b"x")
    found = hub_io.fetch_files("org/repo", ("sub/a.json", "deep/b.pt"), local_dir=tmp_path)
    assert found == {"sub/a.json": tmp_path / "sub" / "a.json", "deep/b.pt": tmp_path / "b.pt"}
    with pytest.raises(hub_io.CheckpointUnavailableError, match="missing checkpoint file.*c.bin"):
        hub_io.fetch_files("org/repo", ("c.bin",), local_dir=tmp_path)


def test_push_offline_and_without_token(monkeypatch):
    with pytest.raises(hub_io.HubPushError, match="HF_HUB_OFFLINE is set"):
        hub_io.hub_api_for_push("org/name")
    monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_io, "get_token", lambda: None)
    with pytest.raises(hub_io.HubPushError, match="no Hugging Face token"):
        hub_io.hub_api_for_push("org/name")
