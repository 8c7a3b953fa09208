"""DAC (D1-D3): parity of the compress/decompress and plain paths with the upstream golden vectors,
weight conversion, chunk geometry and the short-input behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import DacModel

from codecfake_hf.codecs import convert_dac, dac
from codecfake_hf.codecs.loudness import integrated_loudness
from codecfake_hf.codecs.registry import get_spec, load_codec

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def golden(fixtures_dir):
    return np.load(fixtures_dir / "codec_golden" / "dac_compress_small.npz")


@pytest.fixture(scope="module")
def golden_codec(golden) -> dac.DacCodec:
    torch.manual_seed(0)
    state_dict = {key: torch.from_numpy(golden[key]) for key in golden.files if "." in key}
    return convert_dac.from_upstream(json.loads(str(golden["config_json"])), state_dict)


def test_upstream_key_rules_match_the_key_map(fixtures_dir):
    rows = [
        line.rstrip("\n").split("\t")
        for line in (fixtures_dir / "codec_facts" / "dac_key_map.tsv").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert len(rows) > 300
    for dac_key, _, hf_key, _, _ in rows:
        mapped = convert_dac.upstream_key(dac_key, n_strides=4)
        assert mapped.replace(".weight_g", ".weight").replace(".weight_v", ".weight") == hf_key, dac_key


def test_fold_weight_norm_matches_torch_parametrization():
    torch.manual_seed(0)
    model = DacModel(
        dac._config(get_spec("D1"), encoder_hidden_size=4, decoder_hidden_size=32, n_codebooks=2)
    )
    model.apply_weight_norm()  # parametrizations.weight.original0/1
    normed = {key: value.detach().clone() for key, value in model.state_dict().items()}
    assert any(key.endswith("original1") for key in normed)
    expected = {
        name: module.weight.detach().clone()
        for name, module in model.named_modules()
        if hasattr(module, "parametrizations")
    }
    folded = convert_dac.fold_weight_norm(normed)
    for name, weight in expected.items():
        torch.testing.assert_close(folded[name + ".weight"], weight, rtol=0, atol=1e-6)


def test_loudness_matches_upstream_meter(golden):
    for k in range(3):
        measured = integrated_loudness(golden[f"inputs_{k}"], 16000)
        assert abs(measured - golden[f"input_db_{k}"][0]) < 1e-4


@pytest.mark.parametrize("clip", [0, 1, 2])
def test_compress_path_matches_upstream(golden, golden_codec, clip):
    """Codes exact where the decision margin is > 1e-4; output within 1e-5 of the golden relative
    to its peak. Clip 0 (0.7 s) is the length where upstream decompress raised: ours returns what
    upstream computed, then zeros for the missing samples."""
    codec = golden_codec
    signal = torch.from_numpy(golden[f"inputs_{clip}"])
    prepared, _ = codec.normalize_loudness(signal[None], [len(signal)])
    np.testing.assert_allclose(prepared[0].numpy(), golden[f"compress_input_{clip}"][0, 0], rtol=0, atol=1e-6)

    if bool(golden[f"padding_{clip}"]):  # unchunked: one pass with conv padding
        codes = codec.encode(prepared[None])
    else:
        windows, _ = codec.windows(prepared, [len(signal)])
        codes = codec.encode_windows(windows).permute(1, 0, 2).reshape(1, codec.model.config.n_codebooks, -1)
        assert codec.encode_windows(windows).shape[-1] == int(golden[f"chunk_length_{clip}"])
    expected_codes = golden[f"codes_{clip}"]
    decided = golden[f"code_rel_margin_{clip}"] > 1e-4
    assert codes.shape == expected_codes.shape
    assert (codes.numpy() == expected_codes)[decided].all()

    output = codec.compress_decompress([signal])[0].numpy()
    reference = golden[f"outputs_{clip}"][0, 0]
    np.testing.assert_allclose(output, reference, rtol=0, atol=1e-5 * np.abs(reference).max())

    resynthesized = codec.encode_decode(signal[None, None], torch.tensor([len(signal)]))[0, 0].numpy()
    assert resynthesized.shape == signal.shape
    np.testing.assert_array_equal(resynthesized[: len(reference)], output)
    assert not resynthesized[len(reference) :].any()


@pytest.mark.parametrize("clip", [0, 1, 2])
def test_plain_path_matches_upstream(golden, golden_codec, clip):
    signal = torch.from_numpy(golden[f"inputs_{clip}"])[None, None]
    codes = golden_codec.encode(signal)
    decided = golden[f"code_rel_margin_plain_{clip}"] > 1e-4
    assert (codes.numpy() == golden[f"codes_plain_{clip}"])[decided].all()
    decoded = golden_codec.decode(torch.from_numpy(golden[f"codes_plain_{clip}"])).numpy()
    np.testing.assert_allclose(decoded, golden[f"outputs_plain_fromcodes_{clip}"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(decoded, golden[f"outputs_plain_{clip}"], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("subset", "delay", "window", "chunk_hop", "frames"),
    [("D1", 5264, 16000, 5346, 34), ("D2", 5264, 24000, 13346, 59), ("D3", 7904, 44544, 28522, 72)],
)
def test_chunk_geometry_of_released_configs(subset, delay, window, chunk_hop, frames):
    """Delay and windows depend on strides only, so the tiny models share the released geometry
    (dac.md table); a padding-free pass really yields ``chunk_hop`` samples and ``frames`` codes."""
    codec = load_codec(subset, tiny=True).model
    assert (codec.delay, codec.window, codec.chunk_hop) == (delay, window, chunk_hop)
    codes = codec.encode_windows(torch.zeros(1, window))
    assert codes.shape[-1] == frames
    assert codec.decode_windows(codes).shape == (1, chunk_hop)
    # the context manager restored the conv paddings
    assert codec.model.encoder.conv1.padding == (3,)


def test_no_conv_padding_restores_after_error():
    codec = load_codec("D1", tiny=True).model
    with pytest.raises(RuntimeError), dac.no_conv_padding(codec.model):
        assert codec.model.decoder.conv2.padding == (0,)
        raise RuntimeError("boom")
    assert codec.model.decoder.conv2.padding == (3,)


@pytest.mark.parametrize("length", [16000, 11200, 15993, 16001, 3])
def test_short_and_boundary_lengths_do_not_crash(length):
    """Upstream decompress raises for 16000 and 11200 samples at 16 kHz; ours returns T samples."""
    codec = load_codec("D1", tiny=True)
    rng = np.random.default_rng(length)
    waveform = (0.1 * rng.standard_normal(length)).astype(np.float32)
    output = codec.resynthesize_one(waveform, 16000)
    assert output.shape == (length,)
    assert np.isfinite(output).all() and np.abs(output).max() <= 0.99


def test_silence_is_floored_not_nan():
    codec = load_codec("D1", tiny=True)
    output = codec.resynthesize_one(np.zeros(24000, dtype=np.float32), 16000)
    assert np.isfinite(output).all()


def test_plain_mode_option_and_batched_windows_match_single():
    """mode="plain" is selectable; in compress mode windows of several utterances batched in one
    pass give the same output as one utterance at a time."""
    plain = load_codec("D1", tiny=True, mode="plain")
    assert plain.model.mode == "plain"
    codec = load_codec("D1", tiny=True).model
    rng = np.random.default_rng(1)
    signals = [
        torch.from_numpy((0.1 * rng.standard_normal(n)).astype(np.float32)) for n in (30000, 17000, 9000)
    ]
    together = codec.compress_decompress(signals)
    for signal, output in zip(signals, together):
        alone = codec.compress_decompress([signal])[0]
        torch.testing.assert_close(output, alone, rtol=0, atol=1e-5 * float(alone.abs().max()))


def test_random_codec_is_the_released_architecture():
    codec = dac.random_codec(get_spec("D3"))
    config = codec.model.config
    assert (config.encoder_hidden_size, config.decoder_hidden_size, config.hidden_size) == (64, 1536, 1024)
    assert (config.n_codebooks, config.codebook_size, config.codebook_dim) == (9, 1024, 8)
    assert (codec.sampling_rate, codec.hop_length, codec.delay, codec.chunk_hop) == (44100, 512, 7904, 28522)
    assert codec.mode == "compress"


def test_encode_decode_batches_mixed_lengths_like_each_alone(monkeypatch):
    """A padded batch of chunked (> 1 s) and unchunked rows equals each row run alone (float32
    tolerance), and the loudness is measured once per direction for the whole batch, not per row."""
    codec = load_codec("D1", tiny=True).model
    rng = np.random.default_rng(2)
    lengths = [30000, 17000, 16000, 9000, 9100, 400]
    batch = torch.zeros(len(lengths), 1, max(lengths))
    for row, length in enumerate(lengths):
        batch[row, 0, :length] = torch.from_numpy((0.1 * rng.standard_normal(length)).astype(np.float32))
    alone = [
        codec.encode_decode(batch[row : row + 1, :, :length], torch.tensor([length]))
        for row, length in enumerate(lengths)
    ]

    calls = []
    measure = dac.batched_integrated_loudness
    monkeypatch.setattr(dac, "batched_integrated_loudness", lambda *a: calls.append(len(a[1])) or measure(*a))
    together = codec.encode_decode(batch, torch.tensor(lengths))
    assert calls == [len(lengths), len(lengths)]
    assert together.shape == batch.shape
    for row, length in enumerate(lengths):
        expected = alone[row][0, 0]
        torch.testing.assert_close(
            together[row, 0, :length], expected, rtol=0, atol=1e-5 * float(expected.abs().max())
        )
        assert not together[row, 0, length:].any()
