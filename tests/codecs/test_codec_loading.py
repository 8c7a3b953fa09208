"""Codec loading: unimplemented families, offline and missing-file errors, local checkpoint folders
(plain and weight-normed weights), option overrides."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import EncodecModel

from codecfake_cli.main import main
from codecfake_hf.codecs import registry
from codecfake_hf.codecs.registry import CodecNotImplementedError, load_codec
from codecfake_hf.files.hub_io import CheckpointUnavailableError

pytestmark = pytest.mark.usefixtures("one_thread")


def test_unimplemented_family_raises_and_is_listed(monkeypatch, capsys):
    spec = replace(registry.CODECS["E"], id="Z1", family_module="no_such_family")
    monkeypatch.setitem(registry.CODECS, "Z1", spec)
    with pytest.raises(CodecNotImplementedError, match="Z1"):
        load_codec("Z1", tiny=True)
    assert main(["codecs"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Z1 "))
    assert "not implemented yet" in row
    assert main(["resynthesize", "in.wav", "out.flac", "--codec", "Z1", "--tiny"]) == 2


@pytest.mark.parametrize("subset", ["E", "D1"])
def test_offline_load_fails_with_the_files_to_download(subset):
    spec = registry.get_spec(subset)
    with pytest.raises(CheckpointUnavailableError) as error:
        load_codec(subset)
    message = str(error.value)
    assert "HF_HUB_OFFLINE" in message and spec.repo_id in message
    assert all(name in message for name in spec.files)


@pytest.mark.parametrize("subset", ["E", "D1"])
def test_local_dir_missing_a_file(subset, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointUnavailableError, match="model.safetensors"):
        load_codec(subset, local_dir=str(tmp_path))


@pytest.mark.parametrize("weight_norm", [False, True])
def test_dac_loads_from_a_local_folder(tmp_path, weight_norm):
    """A saved DacModel loads strictly, also with weight-norm parametrizations in the file, and
    gives the same output as the model it was saved from."""
    tiny = load_codec("D1", tiny=True, mode="plain")
    model = tiny.model.model
    if weight_norm:
        model.apply_weight_norm()
        assert any("original0" in key for key in model.state_dict())
    model.save_pretrained(tmp_path)
    loaded = load_codec("D1", local_dir=str(tmp_path), mode="plain")
    waveform = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    np.testing.assert_allclose(
        loaded.resynthesize_one(waveform, 16000), tiny.resynthesize_one(waveform, 16000), rtol=0, atol=1e-5
    )


def test_dac_rejects_a_foreign_checkpoint(tmp_path):
    load_codec("E", tiny=True).model.model.save_pretrained(tmp_path)  # an EnCodec folder
    with pytest.raises(CheckpointUnavailableError, match="does not fit DacModel"):
        load_codec("D1", local_dir=str(tmp_path))


def test_encodec_loads_from_a_local_folder_and_bandwidth_option(tmp_path):
    tiny = load_codec("E", tiny=True)
    tiny.model.model.save_pretrained(tmp_path)
    loaded = load_codec("E", local_dir=str(tmp_path))
    assert isinstance(loaded.model.model, EncodecModel) and loaded.model.bandwidth == 1.5
    waveform = (0.1 * np.random.default_rng(0).standard_normal(4800)).astype(np.float32)
    np.testing.assert_array_equal(
        loaded.resynthesize_one(waveform, 24000), tiny.resynthesize_one(waveform, 24000)
    )
    assert loaded.model.encode(torch.zeros(1, 1, 2400)).shape[1] == 2  # 1.5 kbps = 2 codebooks
    wide = load_codec("E", local_dir=str(tmp_path), bandwidth=6.0)
    assert wide.model.encode(torch.zeros(1, 1, 2400)).shape[1] == 8
    with pytest.raises(ValueError, match="bandwidth"):
        load_codec("E", tiny=True, bandwidth=5.0)
