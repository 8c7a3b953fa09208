"""Codecs beyond the paper (Mimi, X-codec, WavTokenizer) on their `transformers` classes, tiny configs."""

import numpy as np
import pytest
import torch

from codecfake_hf.audio.audio_io import resample
from codecfake_hf.codecs import registry
from codecfake_hf.codecs.registry import load_codec
from codecfake_hf.files.hub_io import CheckpointUnavailableError

pytestmark = pytest.mark.usefixtures("one_thread")


def _snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    noise = float(((reference - estimate) ** 2).sum())
    return float("inf") if noise == 0.0 else 10 * np.log10(float((reference**2).sum()) / noise)


def _speechlike(length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 16000
    tone = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return (tone + 0.02 * rng.standard_normal(length)).astype(np.float32)


def test_modern_rows_have_their_own_names_and_taxonomy():
    assert registry.MODERN_SUBSETS == ("mimi", "xcodec", "wavtokenizer", "xcodec2")
    assert not set(registry.MODERN_SUBSETS) & set(registry.PAPER_SUBSETS)
    mimi, xcodec, wavtokenizer, xcodec2 = (registry.get_spec(name) for name in registry.MODERN_SUBSETS)
    assert (mimi.quantizer, mimi.auxiliary, mimi.decoder_domain) == ("MVQ", "semantic distillation", "time")
    assert (xcodec.quantizer, xcodec.auxiliary, xcodec.decoder_domain) == (
        "MVQ",
        "semantic distillation",
        "time",
    )
    assert (wavtokenizer.quantizer, wavtokenizer.auxiliary, wavtokenizer.decoder_domain) == (
        "SVQ",
        "none",
        "frequency",
    )
    # bitrate = codebooks x frame rate x bits per code (2048, 1024 and 4096 entries)
    assert mimi.kbps == pytest.approx(8 * 12.5 * 11 / 1000)
    assert xcodec.kbps == pytest.approx(8 * 50 * 10 / 1000) == xcodec.options["bandwidth"]
    assert wavtokenizer.kbps == pytest.approx(1 * 40 * 12 / 1000)
    assert xcodec2.kbps == pytest.approx(1 * 50 * 16 / 1000)  # FSQ: 4^8 = 2^16 codes
    assert registry.get_spec("MIMI") is mimi


@pytest.mark.parametrize("subset", registry.MODERN_SUBSETS)
def test_tiny_codec_resynthesizes_a_batch_like_each_utterance_alone(subset):
    spec = registry.get_spec(subset)
    resynthesizer = load_codec(subset, tiny=True)
    assert resynthesizer.sampling_rate == spec.sampling_rate
    inputs = [_speechlike(n, seed) for seed, n in enumerate((8000, 5003, 6721))]
    outputs = resynthesizer.resynthesize(inputs, 16000, batch_size=3)
    for waveform, output in zip(inputs, outputs):
        assert output.dtype == np.float32 and np.isfinite(output).all()
        assert len(output) == len(resample(waveform, 16000, spec.sampling_rate))
        assert np.abs(output).max() <= 0.99 and np.abs(output).max() > 0
        alone = resynthesizer.resynthesize_one(waveform, 16000)
        assert _snr_db(alone, output) >= 40.0


@pytest.mark.parametrize("subset", registry.MODERN_SUBSETS)
def test_codes_have_the_registered_codebooks_and_frame_rate(subset):
    spec = registry.get_spec(subset)
    codec = registry.family_module(spec).tiny_codec(spec)
    seconds = 0.5
    with torch.inference_mode():
        codes = codec.encode(torch.zeros(2, 1, int(seconds * spec.sampling_rate)))
    assert codes.shape[:2] == (2, spec.n_quantizers)
    if subset != "mimi":  # the tiny Mimi has its own hop; X-codec and WavTokenizer keep the official one
        assert codes.shape[2] == pytest.approx(seconds * spec.frame_rate_hz, abs=1)


def test_mimi_is_causal_so_padding_never_reaches_the_valid_samples():
    codec = registry.family_module(registry.get_spec("mimi")).tiny_codec(registry.get_spec("mimi"))
    assert not codec.per_utterance
    x = torch.from_numpy(_speechlike(12000, 3))[None, None]
    noisy_tail = x.clone()
    noisy_tail[..., 6000:] = torch.randn(6000)
    with torch.inference_mode():
        a = codec.decode(codec.encode(x))[..., :5760]  # up to the last full frame before the change
        b = codec.decode(codec.encode(noisy_tail))[..., :5760]
    torch.testing.assert_close(a, b)


def test_xcodec_output_covers_lengths_that_are_not_a_multiple_of_the_hop():
    codec = registry.family_module(registry.get_spec("xcodec")).tiny_codec(registry.get_spec("xcodec"))
    lengths = torch.tensor([15074, 9000])  # 15074 alone would decode to 15040 samples without hop padding
    waveforms = torch.zeros(2, 1, 15074)
    waveforms[0, 0] = torch.from_numpy(_speechlike(15074, 4))
    waveforms[1, 0, :9000] = torch.from_numpy(_speechlike(9000, 5))
    with torch.inference_mode():
        output = codec.encode_decode(waveforms, lengths)
    assert output.shape == waveforms.shape
    assert output[0, 0, -300:].abs().sum() > 0 and output[1, 0, 9000:].abs().sum() == 0


@pytest.mark.parametrize("subset", registry.MODERN_SUBSETS)
def test_pretrained_loads_a_saved_folder_and_fails_clearly_offline(subset, tmp_path):
    spec = registry.get_spec(subset)
    module = registry.checkpoint_module(spec)
    tiny = registry.family_module(spec).tiny_codec(spec)
    tiny.model.save_pretrained(tmp_path)
    loaded = module.pretrained_codec(spec, local_dir=str(tmp_path))
    x = torch.from_numpy(_speechlike(4000, 6))[None, None]
    with torch.inference_mode():
        torch.testing.assert_close(
            loaded.encode_decode(x, torch.tensor([4000])), tiny.encode_decode(x, torch.tensor([4000]))
        )
    with pytest.raises(CheckpointUnavailableError, match=spec.repo_id):
        module.pretrained_codec(spec)  # HF_HUB_OFFLINE=1 (conftest) and nothing cached
    with pytest.raises(CheckpointUnavailableError, match="missing checkpoint file"):
        module.pretrained_codec(spec, local_dir=str(tmp_path / "empty"))
