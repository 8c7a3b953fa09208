"""The project's one resampler, in a file that travels with every saved detector.

``codecfake_hf.audio.resample`` (dataset build, codecs, training, ``codecfake detect``) and the
AASIST feature extractor (also when a saved folder runs with ``trust_remote_code`` where this
package is not installed) both call :func:`resample`, so bona fide and spoof audio, and training and
inference, take the same path. It needs only numpy and torch: soxr at "VHQ" quality when ``soxr`` is
importable (always inside this package, a dependency), otherwise :func:`sinc_resample`, a
band-limited Kaiser-windowed sinc interpolator written to match soxr VHQ's response (pass band to
91.3 % of the lower Nyquist frequency, stop band from 100 %, linear phase, same time alignment and
output length). How close the fallback comes to soxr, and what that does to AASIST-L's scores, is
measured by ``benchmarks/bench_resampling.py`` (table in ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

try:
    import soxr
except ImportError:  # a downstream environment without soxr: the windowed-sinc fallback below
    soxr = None

#: Which implementation :func:`resample` uses in this environment.
BACKEND = "soxr-vhq" if soxr is not None else "kaiser-sinc"

#: Fallback filter, relative to the Nyquist frequency of the lower of the two rates: soxr VHQ's
#: pass band ends at 0.913 and its stop band starts at 1.0; the windowed sinc is centred between them.
PASSBAND_END = 0.913
STOPBAND_START = 1.0
#: Stop-band attenuation of the Kaiser window (dB); sets the window's beta and the filter length.
STOPBAND_ATTENUATION_DB = 140.0
#: Kernel weights per strided convolution (bounds the fallback's temporary memory).
_GROUP_WEIGHTS = 2**22


def output_length(num_samples: int, sampling_rate: int, target_sampling_rate: int) -> int:
    """Samples after resampling ``num_samples`` from ``sampling_rate`` to ``target_sampling_rate`` Hz:
    the exact length rounded half up (soxr's convention)."""
    return (num_samples * target_sampling_rate + sampling_rate // 2) // sampling_rate


def _kaiser_sinc_table(up: int, down: int) -> tuple[np.ndarray, int]:
    """Interpolation weights ``[up, 2 * reach + 1]`` (float64) and ``reach`` (input samples).

    Output sample ``n`` sits at input time ``t = n * down / up``; with ``m0 = floor(t)`` and phase
    ``p = n * down mod up``, it is ``sum_j x[m0 + j - reach] * table[p, j]``. Row ``p`` samples the
    kernel ``k(tau) = c * sinc(c * tau) * kaiser(tau / half_width)`` at ``tau = p / up + reach - j``,
    where ``c`` is the cut-off as a fraction of the input Nyquist frequency.
    """
    scale = min(1.0, up / down)  # lower Nyquist / input Nyquist
    cutoff = 0.5 * (PASSBAND_END + STOPBAND_START) * scale
    transition = (STOPBAND_START - PASSBAND_END) * math.pi * scale  # rad per input sample
    attenuation = STOPBAND_ATTENUATION_DB
    beta = 0.1102 * (attenuation - 8.7)  # Kaiser's formulas for A > 50 dB
    half_width = (attenuation - 7.95) / (2.285 * transition) / 2  # input samples
    reach = math.ceil(half_width)
    tau = np.arange(up)[:, None] / up + reach - np.arange(2 * reach + 1)[None, :]
    inside = np.clip(1.0 - (tau / half_width) ** 2, 0.0, None)
    window = np.where(np.abs(tau) <= half_width, np.i0(beta * np.sqrt(inside)) / np.i0(beta), 0.0)
    return cutoff * np.sinc(cutoff * tau) * window, reach


def sinc_resample(waveform: np.ndarray, sampling_rate: int, target_sampling_rate: int) -> np.ndarray:
    """Band-limited resampling without soxr: ``[T]`` or ``[T, channels]`` float audio at
    ``sampling_rate`` Hz to float32 at ``target_sampling_rate`` Hz, ``output_length(T, ...)`` samples.

    A Kaiser-windowed sinc (140 dB stop band; cut-off and transition as soxr VHQ, see the module
    docstring) at the exact rational ratio ``up / down = target_sampling_rate / sampling_rate``,
    applied by :func:`polyphase_resample`.
    """
    divisor = math.gcd(int(sampling_rate), int(target_sampling_rate))
    up, down = int(target_sampling_rate) // divisor, int(sampling_rate) // divisor
    table, reach = _kaiser_sinc_table(up, down)
    num_out = output_length(np.shape(waveform)[0], int(sampling_rate), int(target_sampling_rate))
    return polyphase_resample(waveform, up, down, table, reach, num_out)


def polyphase_resample(
    waveform: np.ndarray, up: int, down: int, table: np.ndarray, reach: int, num_out: int
) -> np.ndarray:
    """Interpolate ``[T]`` or ``[T, channels]`` float audio at the rational ratio ``up / down`` (both
    in lowest terms) with a weight ``table [up, 2 * reach + 1]`` laid out as :func:`_kaiser_sinc_table`'s;
    returns the first ``num_out`` output samples, float32 ``[num_out]`` or ``[num_out, channels]``.

    Output sample ``n`` sits at input time ``n * down / up``; samples outside the input count as
    zeros. Polyphase form: the outputs ``n = r, r + up, r + 2 up, ...`` share one weight row and their
    input windows move by ``down`` samples, so each group of phases ``r`` is one strided ``conv1d``
    (float32), a kernel per phase placed at its window's offset.
    """
    samples = np.asarray(waveform, dtype=np.float32)
    taps = table.shape[1]
    signal = torch.from_numpy(samples.reshape(samples.shape[0], -1).T.copy())  # [channels, T]
    signal = F.pad(signal, (reach, reach + 1 + 2 * down))[:, None]  # [channels, 1, T + 2 reach + 1 + 2 down]
    phases = np.arange(up)
    offsets, rows = (phases * down) // up, (phases * down) % up  # window start and weight row of phase r
    group = max(1, min(up, int(math.sqrt(_GROUP_WEIGHTS * up / down)), _GROUP_WEIGHTS // taps))
    per_phase = torch.empty(signal.shape[0], up, (num_out + up - 1) // up)  # [channels, up, outputs / up]
    for first in range(0, up, group):
        members = phases[first : first + group]
        base = int(offsets[members[0]])
        kernel = np.zeros((len(members), 1, taps + int(offsets[members[-1]]) - base), dtype=np.float32)
        for index, phase in enumerate(members):
            start = int(offsets[phase]) - base
            kernel[index, 0, start : start + taps] = table[rows[phase]]
        out = F.conv1d(signal[..., base:], torch.from_numpy(kernel), stride=down)
        per_phase[:, members] = out[..., : per_phase.shape[-1]]
    resampled = per_phase.transpose(1, 2).reshape(signal.shape[0], -1)[:, :num_out]  # output n = k * up + r
    return resampled.T.reshape(num_out, *samples.shape[1:]).numpy()


def resample(waveform: np.ndarray, sampling_rate: int, target_sampling_rate: int) -> np.ndarray:
    """Resample ``[T]`` or ``[T, channels]`` float audio from ``sampling_rate`` to
    ``target_sampling_rate`` Hz.

    soxr "VHQ" when importable, else :func:`sinc_resample` (see :data:`BACKEND`). Returns float32,
    ``output_length(T, sampling_rate, target_sampling_rate)`` samples; a copy when the rates are equal.

    Raises:
        ValueError: a rate is not a positive number.
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if int(sampling_rate) <= 0 or int(target_sampling_rate) <= 0:
        raise ValueError(
            f"invalid sample rates {sampling_rate} -> {target_sampling_rate} Hz; both must be positive"
        )
    if int(sampling_rate) == int(target_sampling_rate):
        return waveform.copy()
    if soxr is None:
        return sinc_resample(waveform, sampling_rate, target_sampling_rate)
    return soxr.resample(waveform, int(sampling_rate), int(target_sampling_rate), quality="VHQ").astype(
        np.float32, copy=False
    )
