"""The batched resynthesis engine: batched output equals per-utterance output (SNR on the valid
region), lengths, resampling, clamp, peak normalisation, bucketing and the memory cap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codecfake_hf.codecs.base import CodecModel, Resynthesizer
from codecfake_hf.codecs.registry import load_codec

pytestmark = pytest.mark.usefixtures("one_thread")


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


@pytest.mark.parametrize("subset", ["E", "D1"])
def test_batched_matches_per_utterance(subset):
    """Inputs at 22.05 kHz of 0.6-2.3 s (D1: both the one-pass and the windowed path), batched in
    length buckets: every output has the resampled length and >= 40 dB SNR against its own
    batch-of-one run."""
    codec = load_codec(subset, tiny=True)
    rng = np.random.default_rng(0)
    inputs = [speech_like(seconds, 22050, rng) for seconds in (0.6, 2.3, 1.1, 1.7, 0.9, 2.0)]
    batched = codec.resynthesize(inputs, 22050, batch_size=4)
    snrs = []
    for waveform, output in zip(inputs, batched):
        single = codec.resynthesize_one(waveform, 22050)
        assert output.shape == single.shape == (round(len(waveform) * codec.sampling_rate / 22050),)
        assert output.dtype == np.float32 and np.abs(output).max() <= 0.99
        snrs.append(snr_db(single, output))
    print(f"{subset}: batched vs per-utterance SNR min {min(snrs):.1f} dB")
    assert min(snrs) >= 40.0


class Gain(CodecModel):
    """A stand-in codec: multiplies by ``gain`` and appends 5 samples (tests the engine alone)."""

    sampling_rate = 16000
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


class RecordsPrecision(Gain):
    """A stand-in codec that records its parameter dtype and CUDA's TF32 switches when it runs."""

    def __init__(self) -> None:
        super().__init__(1.0)
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.seen: list[tuple[torch.dtype, torch.dtype, bool, bool]] = []

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        switches = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        self.seen.append((waveforms.dtype, self.scale.dtype, *switches))
        return waveforms * self.scale


@pytest.mark.parametrize("allow_tf32", [False, True])
def test_precision_options_apply_while_running_and_are_restored(allow_tf32):
    """float64 reaches the model and its inputs; TF32 is as asked inside the run (off by default,
    so CUDA float32 is true float32) and the global switches are restored afterwards."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = not allow_tf32
    try:
        model = RecordsPrecision()
        engine = Resynthesizer(model, dtype=torch.float64, allow_tf32=allow_tf32)
        output = engine.resynthesize_one(np.full(100, 0.5, dtype=np.float32), 16000)
        assert output.dtype == np.float32 and np.all(output == 0.5)
        assert model.seen == [(torch.float64, torch.float64, allow_tf32, allow_tf32)]
        assert torch.backends.cudnn.allow_tf32 is (not allow_tf32)
        assert torch.backends.cuda.matmul.allow_tf32 is (not allow_tf32)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before
    assert Resynthesizer(Gain(1.0)).allow_tf32 is False


@pytest.mark.parametrize("subset", ["F3", "F1", "D1", "A"])
def test_float64_batches_equal_per_utterance_runs(subset):
    """In float64 the batched path (FunCodec: one padded batch with per-row masked statistics, the
    GPU default) gives each utterance its per-utterance output to float64 rounding: in float32 a
    near-tie in a deep residual codebook can flip a code between the two runs, in float64 not."""
    model = load_codec(subset, tiny=True).model
    if hasattr(model, "masked_batching"):
        model.masked_batching = True
    engine = Resynthesizer(model, dtype=torch.float64)
    rng = np.random.default_rng(1)
    inputs = [speech_like(seconds, 16000, rng) for seconds in (0.7, 1.6, 1.2, 1.45)]
    batched = engine.resynthesize(inputs, 16000, batch_size=4)
    assert [len(group) for group in engine.batches([len(w) for w in inputs], 4)] == [4]
    for waveform, output in zip(inputs, batched):
        np.testing.assert_allclose(output, engine.resynthesize_one(waveform, 16000), rtol=0, atol=1e-6)
