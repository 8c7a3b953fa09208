"""Batched BS.1770 loudness (torch, padded batch) against the per-signal reference meter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codecfake_hf.codecs.loudness import batched_integrated_loudness, batched_k_weighting, integrated_loudness


def _signals(sampling_rate: int) -> list[np.ndarray]:
    """Speech-like levels and edge cases: silence, near-silence, rows under 0.5 s and under one block."""
    rng = np.random.default_rng(sampling_rate)
    signals = [
        (0.1 * rng.standard_normal(n) * np.sin(np.arange(n) / 3000)).astype(np.float32)
        for n in (3, 100, sampling_rate // 3, sampling_rate, 2 * sampling_rate + 17)
    ]
    return [*signals, np.zeros(sampling_rate, np.float32), np.full(9000, 1e-6, np.float32)]


@pytest.mark.parametrize("sampling_rate", [16000, 24000, 44100])
def test_batched_loudness_equals_each_row_alone(sampling_rate):
    """Each row of a padded batch (noise in the padding) measures as the reference meter measures it
    alone."""
    signals = _signals(sampling_rate)
    lengths = [len(signal) for signal in signals]
    batch = torch.randn(len(signals), max(lengths) + 50, generator=torch.Generator().manual_seed(0))
    for row, signal in enumerate(signals):
        batch[row, : len(signal)] = torch.from_numpy(signal)
    measured = batched_integrated_loudness(batch, lengths, sampling_rate)
    reference = np.array([integrated_loudness(signal, sampling_rate) for signal in signals])
    assert measured.dtype == torch.float32 and measured.shape == (len(signals),)
    np.testing.assert_allclose(measured.numpy(), reference, rtol=0, atol=1e-5)
    assert measured[-2] == -70.0  # silence is floored


@pytest.mark.parametrize("sampling_rate", [16000, 44100])
def test_fft_k_weighting_equals_the_recursion(sampling_rate):
    """The FFT convolution used off the CPU gives the IIR recursion's output to float64 rounding."""
    signals = torch.randn(
        3, 3 * sampling_rate, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    recursion = batched_k_weighting(signals, sampling_rate, fft=False)
    fft = batched_k_weighting(signals, sampling_rate, fft=True)
    torch.testing.assert_close(fft, recursion, rtol=0, atol=1e-10)
