"""ITU-R BS.1770-4 integrated loudness (LUFS), as DAC's ``compress``/``decompress`` measure it.

Written from ``descript-audiotools`` 0.7.2, as ``descript-audio-codec`` 1.0.0 calls it (its meter on the CPU path, which
is the one the CodecFake data hit): K-weighting (high-shelf +4 dB at 1500 Hz, Q 1/sqrt 2, then a
38 Hz high-pass, Q 0.5; RBJ-cookbook biquads at the signal's own rate, exact IIR), 0.4 s blocks
with a 0.1 s step (the last block zero-padded), absolute gate -70 LUFS, relative gate -10 LU, result
floored at -70 LUFS; signals shorter than 0.5 s are zero-padded to 0.5 s for the measurement.

Upstream filters in float32 with float32-rounded coefficients; here the same rounded coefficients
filter in float64 (scipy), and the result is returned as float32 like upstream. On the DAC golden
vectors (``tests/fixtures/codec_golden/dac_compress_small.npz``) ``input_db_k`` agrees within ~3e-6 dB.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

#: Loudness floor of the meter (LUFS).
MIN_LOUDNESS = -70.0
_BLOCK_S = 0.4
_STEP_S = 0.1
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0


def _biquad(
    kind: str, gain_db: float, q: float, center_hz: float, sampling_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """RBJ-cookbook biquad ``(b, a)`` normalised by ``a0``, rounded to float32 values."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * center_hz / sampling_rate
    alpha = math.sin(w0) / (2.0 * q)
    cos_w0 = math.cos(w0)
    if kind == "high_shelf":
        root = 2.0 * math.sqrt(amp) * alpha
        b = [
            amp * ((amp + 1) + (amp - 1) * cos_w0 + root),
            -2 * amp * ((amp - 1) + (amp + 1) * cos_w0),
            amp * ((amp + 1) + (amp - 1) * cos_w0 - root),
        ]
        a = [
            (amp + 1) - (amp - 1) * cos_w0 + root,
            2 * ((amp - 1) - (amp + 1) * cos_w0),
            (amp + 1) - (amp - 1) * cos_w0 - root,
        ]
    elif kind == "high_pass":
        b = [(1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2]
        a = [1 + alpha, -2 * cos_w0, 1 - alpha]
    else:
        raise ValueError(f"unknown biquad kind {kind!r}")
    b_arr, a_arr = np.asarray(b), np.asarray(a)
    # Upstream designs in float64 and filters with the coefficients cast to float32; that rounding
    # moves the loudness by ~1e-4 dB, so it is kept (the filtering itself stays float64).
    return (b_arr / a_arr[0]).astype(np.float32).astype(np.float64), (a_arr / a_arr[0]).astype(
        np.float32
    ).astype(np.float64)


def k_weighting(waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Apply the two BS.1770 K-weighting stages to ``waveform [T]`` (float64 out)."""
    data = np.asarray(waveform, dtype=np.float64)
    for stage in (("high_shelf", 4.0, 1 / math.sqrt(2.0), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = _biquad(*stage, sampling_rate)
        data = lfilter(b, a, data)
    return data


def integrated_loudness(waveform: np.ndarray, sampling_rate: int) -> np.float32:
    """BS.1770-4 gated loudness of mono ``waveform [T]`` at ``sampling_rate`` Hz, in LUFS (float32),
    floored at :data:`MIN_LOUDNESS`."""
    waveform = np.asarray(waveform, dtype=np.float32)
    length = waveform.shape[-1]
    duration = length / sampling_rate
    if duration < 0.5:  # same arithmetic as upstream, including its int() truncation
        waveform = np.pad(waveform, (0, int((0.5 - duration) * sampling_rate)))
    weighted = k_weighting(waveform, sampling_rate)

    kernel = int(_BLOCK_S * sampling_rate)
    stride = int(_BLOCK_S * sampling_rate * (_STEP_S / _BLOCK_S))
    n_blocks = 1 + math.ceil((len(weighted) - kernel) / stride)
    weighted = np.pad(weighted, (0, max(0, (n_blocks - 1) * stride + kernel - len(weighted))))
    squares = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    starts = np.arange(n_blocks) * stride
    energy = (squares[starts + kernel] - squares[starts]) / (_BLOCK_S * sampling_rate)

    with np.errstate(divide="ignore"):
        block_loudness = -0.691 + 10.0 * np.log10(energy)
    above_absolute = block_loudness > _ABSOLUTE_GATE
    if not above_absolute.any():
        return np.float32(MIN_LOUDNESS)
    relative_gate = -0.691 + 10.0 * math.log10(energy[above_absolute].mean()) + _RELATIVE_GATE
    gated = above_absolute & (block_loudness > relative_gate)
    loudness = -0.691 + 10.0 * math.log10(energy[gated].mean()) if gated.any() else -math.inf
    return np.float32(max(loudness, MIN_LOUDNESS))
