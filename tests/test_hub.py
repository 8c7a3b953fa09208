import time

import pytest

from codecfake_hf import hub


def test_fetch_offline_fails_fast_and_names_the_files():
    start = time.monotonic()
    with pytest.raises(hub.CheckpointUnavailableError) as info:
        hub.fetch_files("facebook/encodec_24khz", ("config.json", "model.safetensors"))
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "config.json model.safetensors" in message
    assert "huggingface-cli download facebook/encodec_24khz" in message


def test_fetch_from_a_local_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "b.pt").write_bytes(b"x")
    found = hub.fetch_files("org/repo", ("sub/a.json", "deep/b.pt"), local_dir=tmp_path)
    assert found == {"sub/a.json": tmp_path / "sub" / "a.json", "deep/b.pt": tmp_path / "b.pt"}
    with pytest.raises(hub.CheckpointUnavailableError, match="missing checkpoint file.*c.bin"):
        hub.fetch_files("org/repo", ("c.bin",), local_dir=tmp_path)


def test_push_offline_and_without_token(tmp_path, monkeypatch):
    with pytest.raises(hub.HubPushError, match="HF_HUB_OFFLINE is set"):
        hub.push_folder(tmp_path, "org/name")
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))  # no stored token either
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(hub.HubPushError, match="no Hugging Face token"):
        hub.push_folder(tmp_path, "org/name")
    with pytest.raises(FileNotFoundError):
        hub.push_folder(tmp_path / "missing", "org/name")
