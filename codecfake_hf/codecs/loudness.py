"""ITU-R BS.1770-4 integrated loudness (LUFS), as DAC's ``compress``/``decompress`` measure it.

Written from ``descript-audiotools`` 0.7.2, as ``descript-audio-codec`` 1.0.0 calls it (its meter on the CPU path, which
is the one the CodecFake data hit): K-weighting (high-shelf +4 dB at 1500 Hz, Q 1/sqrt 2, then a
38 Hz high-pass, Q 0.5; RBJ-cookbook biquads at the signal's own rate, exact IIR), 0.4 s blocks
with a 0.1 s step (the last block zero-padded), absolute gate -70 LUFS, relative gate -10 LU, result
floored at -70 LUFS; signals shorter than 0.5 s are zero-padded to 0.5 s for the measurement.

Upstream filters in float32 with float32-rounded coefficients; here the same rounded coefficients
filter in float64 (scipy), and the result is returned as float32 like upstream. On the DAC golden
vectors (``tests/fixtures/codec_golden/dac_compress_small.npz``) ``input_db_k`` agrees within ~3e-6 dB.

:func:`integrated_loudness` is the readable reference (one signal, numpy/scipy, on the host);
:func:`batched_integrated_loudness` measures a zero-padded batch with torch ops on the batch's device
(the K-weighting as an FFT convolution with the filters' impulse response, in float64), each row
as if alone; tests check the two agree.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from scipy.fft import next_fast_len
from scipy.signal import lfilter

#: Loudness floor of the meter (LUFS).
MIN_LOUDNESS = -70.0
_BLOCK_S = 0.4
_STEP_S = 0.1
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0
#: The K-weighting impulse response is cut where it has decayed below this fraction of its peak.
_IMPULSE_TAIL = 1e-20


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


#: The two BS.1770 stages: (kind, gain dB, Q, centre Hz).
_K_WEIGHTING_STAGES = (("high_shelf", 4.0, 1 / math.sqrt(2.0), 1500.0), ("high_pass", 0.0, 0.5, 38.0))


def k_weighting(waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Apply the two BS.1770 K-weighting stages to ``waveform [T]`` (float64 out)."""
    data = np.asarray(waveform, dtype=np.float64)
    for stage in _K_WEIGHTING_STAGES:
        b, a = _biquad(*stage, sampling_rate)
        data = lfilter(b, a, data)
    return data


def _measured_length(length: int, sampling_rate: int) -> int:
    """Samples the meter sees for a ``length``-sample signal: signals under 0.5 s are zero-padded to
    0.5 s, with upstream's ``int()`` truncation."""
    duration = length / sampling_rate
    return length + int((0.5 - duration) * sampling_rate) if duration < 0.5 else length


def _block_geometry(length: int, sampling_rate: int) -> tuple[int, int, int]:
    """``(kernel, stride, n_blocks)`` in samples of the gating blocks over ``length`` samples (the
    last block zero-padded)."""
    kernel = int(_BLOCK_S * sampling_rate)
    stride = int(_BLOCK_S * sampling_rate * (_STEP_S / _BLOCK_S))
    return kernel, stride, 1 + math.ceil((length - kernel) / stride)


def integrated_loudness(waveform: np.ndarray, sampling_rate: int) -> np.float32:
    """BS.1770-4 gated loudness of mono ``waveform [T]`` at ``sampling_rate`` Hz, in LUFS (float32),
    floored at :data:`MIN_LOUDNESS`."""
    waveform = np.asarray(waveform, dtype=np.float32)
    length = waveform.shape[-1]
    waveform = np.pad(waveform, (0, _measured_length(length, sampling_rate) - length))
    weighted = k_weighting(waveform, sampling_rate)

    kernel, stride, n_blocks = _block_geometry(len(weighted), sampling_rate)
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


@functools.lru_cache(maxsize=8)
def k_weighting_impulse_response(sampling_rate: int) -> np.ndarray:
    """The K-weighting's impulse response at ``sampling_rate`` Hz (float64 ``[N]``), cut where it has
    decayed below :data:`_IMPULSE_TAIL` of its peak (N about 0.25 s: the 38 Hz high-pass is slowest)."""
    poles = np.concatenate([np.roots(_biquad(*stage, sampling_rate)[1]) for stage in _K_WEIGHTING_STAGES])
    radius = float(np.abs(poles).max())
    # a double pole decays like n * r^n: twice the single-pole length is ample
    length = 2 * math.ceil(math.log(_IMPULSE_TAIL) / math.log(radius))
    impulse = np.zeros(length)
    impulse[0] = 1.0
    return k_weighting(impulse, sampling_rate)


def batched_k_weighting(signals: torch.Tensor, sampling_rate: int, fft: bool | None = None) -> torch.Tensor:
    """:func:`k_weighting` of each row of float64 ``signals [B, T]``, on their device. With ``fft``
    (the default off the CPU) as an FFT convolution with :func:`k_weighting_impulse_response`, else
    by scipy's recursion over the whole batch at once (faster on the CPU); the two agree to float64
    rounding."""
    if not (signals.device.type != "cpu" if fft is None else fft):
        return torch.from_numpy(k_weighting(signals.numpy(), sampling_rate))
    response = torch.from_numpy(k_weighting_impulse_response(sampling_rate)).to(signals.device)
    total = signals.shape[-1]
    size = next_fast_len(total + len(response) - 1, real=True)
    spectrum = torch.fft.rfft(signals, n=size) * torch.fft.rfft(response, n=size)
    return torch.fft.irfft(spectrum, n=size)[:, :total]


def batched_integrated_loudness(
    waveforms: torch.Tensor, lengths: list[int], sampling_rate: int
) -> torch.Tensor:
    """BS.1770-4 gated loudness of each row of the zero-padded batch ``waveforms [B, T]`` (row ``i``
    valid over its first ``lengths[i]`` samples), in LUFS: float32 ``[B]`` on the batch's device,
    each equal to :func:`integrated_loudness` of the row alone up to float64 rounding of the
    filtering (:func:`batched_k_weighting`). No per-row host work."""
    device = waveforms.device
    measured = [_measured_length(length, sampling_rate) for length in lengths]
    total = max(max(measured), waveforms.shape[-1])
    signal = waveforms.new_zeros((len(lengths), total), dtype=torch.float64)
    signal[:, : waveforms.shape[-1]] = waveforms
    signal.masked_fill_(
        torch.arange(total, device=device) >= torch.tensor(lengths, device=device)[:, None], 0.0
    )

    weighted = batched_k_weighting(signal, sampling_rate)
    # the filter rings past each row's end; the meter sees zeros there
    weighted.masked_fill_(
        torch.arange(total, device=device) >= torch.tensor(measured, device=device)[:, None], 0.0
    )
    energy_before = torch.cumsum(weighted.square_(), dim=-1)  # [B, total]: energy of samples 0..t

    kernel, stride, _ = _block_geometry(0, sampling_rate)
    n_blocks = torch.tensor([_block_geometry(length, sampling_rate)[2] for length in measured], device=device)
    starts = torch.arange(int(n_blocks.max()), device=device) * stride
    energy = (_energy_up_to(energy_before, starts + kernel) - _energy_up_to(energy_before, starts)) / (
        _BLOCK_S * sampling_rate
    )
    in_row = starts < n_blocks[:, None] * stride

    block_loudness = -0.691 + 10.0 * torch.log10(energy)
    above_absolute = in_row & (block_loudness > _ABSOLUTE_GATE)
    relative_gate = -0.691 + 10.0 * torch.log10(_masked_mean(energy, above_absolute)) + _RELATIVE_GATE
    gated = above_absolute & (block_loudness > relative_gate[:, None])
    loudness = -0.691 + 10.0 * torch.log10(_masked_mean(energy, gated))
    # rows with no block above a gate are NaN or -inf here: the floor, as in the reference
    loudness = torch.where(gated.any(dim=-1), loudness, MIN_LOUDNESS)
    return loudness.clamp(min=MIN_LOUDNESS).to(torch.float32)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values [B, N]`` over ``mask`` per row (NaN for an empty row)."""
    return torch.where(mask, values, 0.0).sum(dim=-1) / mask.sum(dim=-1)


def _energy_up_to(cumulative: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """Energy of samples ``[0, end)`` per row from the running sums ``cumulative [B, T]``, for block
    bounds ``ends [N]`` (0 -> 0; past the end, the total: the meter's zero padding)."""
    values = cumulative[:, (ends - 1).clamp(0, cumulative.shape[-1] - 1)]
    return torch.where(ends > 0, values, 0.0)
