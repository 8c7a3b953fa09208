"""HiFi-Codec (B1-B3): golden parity with upstream, official state-dict layout, batching, offline."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
import torch

from codecfake_hf.codecs import convert_hificodec, hificodec
from codecfake_hf.codecs.registry import get_spec, load_codec
from codecfake_hf.files.hub_io import CheckpointUnavailableError
from tests.codecs import upstream_checkpoints

SUBSETS = ("B1", "B2", "B3")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def golden(fixtures_dir):
    with np.load(fixtures_dir / "codec_golden" / "hificodec_small.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def golden_model(golden):
    weights = {key: torch.from_numpy(value) for key, value in golden.items() if "/" in key}
    return convert_hificodec.from_upstream(json.loads(str(golden["config_json"])), weights)


@pytest.fixture(scope="module")
def official_layout(fixtures_dir):
    """``{(checkpoint key, state-dict key): shape}`` of the official checkpoints."""
    layout = {}
    for line in (fixtures_dir / "codec_facts" / "hificodec_full_state_dict.tsv").read_text().splitlines():
        top, key, shape = line.split("\t")
        layout[(top, key)] = tuple(json.loads(shape))
    return layout


def test_golden_codes_and_waveform(golden, golden_model):
    inputs = torch.from_numpy(golden["inputs"])[:, None]
    with torch.no_grad():
        latent = golden_model.encoder(inputs)
        codes = golden_model.encode(inputs)
        output = golden_model.decode(codes)
    np.testing.assert_allclose(latent.numpy(), golden["encoder_out"], atol=1e-5)
    expected = golden["codes"].transpose(0, 2, 1)  # upstream [B, frames, 4] -> ours [B, 4, frames]
    decided = golden["code_rel_margin"].transpose(0, 2, 1) > 1e-4
    assert decided.any()
    np.testing.assert_array_equal(codes.numpy()[decided], expected[decided])
    assert np.abs(output.numpy() - golden["outputs"]).max() <= 1e-4


def test_golden_decode_of_stored_codes(golden, golden_model):
    codes = torch.from_numpy(golden["codes"]).transpose(1, 2)
    with torch.no_grad():
        quantized = golden_model.quantizer.decode(codes)
        output = golden_model.decode(codes)
    np.testing.assert_allclose(quantized.numpy(), golden["quantized"], atol=1e-6)
    assert output.shape == golden["outputs"].shape
    assert np.abs(output.numpy() - golden["outputs"]).max() <= 1e-4


@pytest.mark.parametrize("subset", SUBSETS)
def test_full_config_matches_official_state_dict(subset, official_layout):
    model = hificodec.random_codec(get_spec(subset))
    layout = {
        (top, key): tuple(tensor.shape)
        for top, weights in upstream_checkpoints.hificodec(model.state_dict()).items()
        for key, tensor in weights.items()
    }
    assert layout == official_layout
    assert (model.sampling_rate, model.hop_length) == (get_spec(subset).sampling_rate, 320)


def test_nested_flat_and_file_layouts_agree(tmp_path):
    model = hificodec.tiny_codec(get_spec("B1"), seed=1)
    config = dataclasses.asdict(model.config)
    nested = upstream_checkpoints.hificodec(model.state_dict())
    flat = {f"{top}/{key}": tensor for top, weights in nested.items() for key, tensor in weights.items()}
    torch.save(nested, tmp_path / "g_00000000")
    loaded = convert_hificodec.load_checkpoint(tmp_path / "g_00000000")
    waveform = torch.randn(1, 1, 4000) * 0.3
    with torch.no_grad():
        expected = model.decode(model.encode(waveform))
        for weights in (nested, flat, loaded):
            rebuilt = convert_hificodec.from_upstream(config, weights)
            torch.testing.assert_close(rebuilt.decode(rebuilt.encode(waveform)), expected, rtol=0, atol=0)


def test_weights_loaded_after_inference_take_effect():
    model = hificodec.tiny_codec(get_spec("B1"), seed=5)
    other = hificodec.tiny_codec(get_spec("B1"), seed=6)
    codes = torch.randint(0, 64, (1, 4, 20))
    with torch.inference_mode():
        model.decode(codes)
        model.load_state_dict(other.state_dict())  # folds the new weight-norm pairs
        torch.testing.assert_close(model.decode(codes), other.decode(codes), rtol=0, atol=0)


def test_mismatched_or_corrupt_checkpoint_is_reported(tmp_path):
    tiny = hificodec.tiny_codec(get_spec("B1"))
    with pytest.raises(ValueError, match="do not fit the config"):
        convert_hificodec.from_upstream(
            convert_hificodec.OFFICIAL_CONFIGS["config_16k_320d.json"],
            upstream_checkpoints.hificodec(tiny.state_dict()),
        )
    corrupt = tmp_path / "HiFi-Codec-16k-320d"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="HiFi-Codec-16k-320d"):
        convert_hificodec.load_checkpoint(corrupt)
    with pytest.raises(ValueError, match="unexpected HiFi-Codec weight name"):
        convert_hificodec.from_upstream(dataclasses.asdict(tiny.config), {"decoder/x": torch.zeros(1)})


def test_offline_fails_fast_and_clearly():
    start = time.monotonic()
    with pytest.raises(CheckpointUnavailableError, match="HiFi-Codec-24k-320d"):
        load_codec("B3")
    assert time.monotonic() - start < 30


def test_masked_encoder_equals_single_clip():
    model = hificodec.tiny_codec(get_spec("B1"), seed=2)
    lengths = torch.tensor([9000, 6100, 3333])
    batch = torch.zeros(3, 1, 9000)
    clips = [torch.randn(1, 1, int(n)) * 0.2 for n in lengths]
    for row, clip in enumerate(clips):
        batch[row, :, : clip.shape[-1]] = clip
    with torch.no_grad():
        latent = model.encoder(batch, lengths.tolist())
        unmasked = model.encoder(batch)
        for row, clip in enumerate(clips):
            single = model.encoder(clip)
            torch.testing.assert_close(latent[row, :, : single.shape[-1]], single[0], rtol=0, atol=1e-5)
            assert torch.all(latent[row, :, single.shape[-1] :] == 0)
        # Without the mask the padding leaks into the GroupNorm statistics of the short clips.
        assert (unmasked[2, :, :10] - latent[2, :, :10]).abs().max() > 1e-3


@pytest.mark.parametrize("group_samples", [None, 20000])  # one masked batch (as on GPU) / CPU row groups
def test_tiny_batched_equals_per_utterance(group_samples):
    engine = load_codec("B1", tiny=True, seed=3)
    engine.model.cpu_group_samples = group_samples
    rng = np.random.default_rng(0)
    clips = [(0.3 * rng.standard_normal(n)).astype(np.float32) for n in (16000, 9000, 5123, 700, 200)]
    batched = engine.resynthesize(clips, 16000, batch_size=8)
    for clip, output in zip(clips, batched):
        single = engine.resynthesize_one(clip, 16000)
        assert output.shape == single.shape == clip.shape
        np.testing.assert_allclose(output, single, rtol=0, atol=1e-5)
        valid = 320 * (len(clip) // 320)
        assert np.all(output[valid:] == 0)
        if valid:
            assert np.abs(output[:valid]).max() > 0


def test_registry_specs_use_official_configs():
    for subset in SUBSETS:
        spec = get_spec(subset)
        official = convert_hificodec.OFFICIAL_CONFIGS[spec.options["config"]]
        config = convert_hificodec.config_from_upstream(official)
        assert config == hificodec.HiFiCodecConfig(sampling_rate=spec.sampling_rate)
        assert spec.input_peak == 0.95


@pytest.mark.slow
def test_pretrained_codec_loads_a_full_checkpoint_folder(tmp_path):
    spec = get_spec("B3")
    model = hificodec.random_codec(spec, seed=4)
    torch.save(upstream_checkpoints.hificodec(model.state_dict()), tmp_path / spec.options["checkpoint"])
    loaded = convert_hificodec.pretrained_codec(spec, local_dir=str(tmp_path))
    for key, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key
