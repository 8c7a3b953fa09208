"""The batched resynthesis engine: batched output equals per-utterance output (SNR on the valid
region), lengths, resampling, clamp, peak normalisation, bucketing and the memory cap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codecfake_hf.codecs.base import CodecModel, Resynthesizer
from codecfake_hf.codecs.registry import load_codec


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def speech_like(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """A voiced-speech-like test signal: harmonics of a gliding 100-160 Hz pitch, syllable
    envelope, a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(130 + 30 * np.sin(2 * np.pi * 0.7 * t)) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.sin(np.pi * 3 * t) ** 2
    return (0.2 * voiced * envelope + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    noise = float(((reference - test) ** 2).sum())
    return float("inf") if noise == 0 else 10 * np.log10(float((reference**2).sum()) / noise)


@pytest.mark.parametrize("codec_id", ["E", "D1"])
def test_batched_matches_per_utterance(codec_id):
    """Inputs at 22.05 kHz of 0.6-2.3 s (D1: both the one-pass and the windowed path), batched in
    length buckets: every output has the resampled length and >= 40 dB SNR against its own
    batch-of-one run."""
    codec = load_codec(codec_id, tiny=True)
    rng = np.random.default_rng(0)
    inputs = [speech_like(seconds, 22050, rng) for seconds in (0.6, 2.3, 1.1, 1.7, 0.9, 2.0)]
    batched = codec.resynthesize(inputs, 22050, batch_size=4)
    snrs = []
    for waveform, output in zip(inputs, batched):
        single = codec.resynthesize_one(waveform, 22050)
        assert output.shape == single.shape == (round(len(waveform) * codec.sample_rate / 22050),)
        assert output.dtype == np.float32 and np.abs(output).max() <= 0.99
        snrs.append(snr_db(single, output))
    print(f"{codec_id}: batched vs per-utterance SNR min {min(snrs):.1f} dB")
    assert min(snrs) >= 40.0


class Gain(CodecModel):
    """A stand-in codec: multiplies by ``gain`` and appends 5 samples (tests the engine alone)."""

    sample_rate = 16000
    hop_length = 1

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain
        self.calls: list[tuple[int, ...]] = []

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(waveforms.shape))
        return waveforms * self.gain

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(codes, (0, 5), value=1.0)


def test_trim_clamp_and_input_peak():
    engine = Resynthesizer(Gain(3.0), input_peak=0.25)
    waveform = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    output = engine.resynthesize_one(waveform, 16000)
    assert output.shape == (1000,)
    np.testing.assert_allclose(np.abs(output).max(), 0.75, rtol=1e-6)  # 0.25 peak, gain 3, no clamp
    loud = Resynthesizer(Gain(3.0)).resynthesize_one(waveform, 16000)
    assert np.abs(loud).max() == pytest.approx(0.99)  # clamped, not rescaled


def test_bucketing_respects_batch_size_and_memory_cap():
    model = Gain(1.0)
    engine = Resynthesizer(model, max_batch_samples=10000, max_padding=0.5)
    lengths = [3000, 100, 2500, 9000, 12000, 2600, 200, 300, 2900, 2800]
    groups = engine.batches(lengths, batch_size=3)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    assert [0, 8, 9] in groups  # 3000, 2900, 2800 share a batch
    for group in groups:
        padded = max(lengths[i] for i in group) * len(group)
        assert len(group) <= 3
        assert len(group) == 1 or padded <= 10000
        assert padded - sum(lengths[i] for i in group) <= 0.5 * padded
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in lengths]
    outputs = engine.resynthesize(inputs, 16000, batch_size=3)
    for waveform, output in zip(inputs, outputs):
        np.testing.assert_array_equal(output, waveform)
    assert all(batch * length <= 12000 for batch, _, length in model.calls)


def test_memory_cap_reaches_models_that_rebatch():
    codec = load_codec("D1", tiny=True)
    assert codec.model.max_batch_samples == codec.max_batch_samples
    small = Resynthesizer(codec.model, max_batch_samples=32000)
    assert small.model.max_batch_samples == 32000 and small.model._windows_per_pass() == 2
