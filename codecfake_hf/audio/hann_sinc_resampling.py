"""torchaudio's default resampler, written here from its definition (torchaudio is not needed).

The CodecFake authors' released loader (``roger-tseng/CodecDetect``, ``data_utils.py`` since commit
``ccd7680``) brings every file that is not at 16 kHz to 16 kHz with torchaudio's
``transforms.Resample`` / ``functional.resample`` at their defaults: ``resampling_method=
"sinc_interp_hann"``, ``lowpass_filter_width=6``, ``rolloff=0.99``. ``--recipe release`` reads audio
the same way through :func:`hann_sinc_resample` (``--resampler torchaudio``).

The algorithm, for rates reduced by their greatest common divisor to ``down`` (input) and ``up``
(output): output sample ``n`` sits at input time ``n * down / up`` and is the weighted sum of the
input samples around it (zeros outside the input), the weight of an input sample ``tau`` input
samples away being

    c * sinc(c * tau) * cos(pi * c * tau / (2 * L)) ** 2   for |c * tau| <= L, else 0,

with ``c = rolloff * min(1, up / down)`` (the cut-off as a fraction of the input's Nyquist
frequency), ``L = lowpass_filter_width`` (zero crossings of the sinc on each side) and
``sinc(x) = sin(pi x) / (pi x)``: a sinc low-pass under a Hann window that spans ``L`` zero crossings
each side. The output has ``ceil(T * up / down)`` samples. Weights are computed in float64 and
applied in float32; against torchaudio 2.9 (float32 throughout) the outputs agree to float32
rounding (``tests/fixtures/README.md``, "torchaudio resampling").
"""

from __future__ import annotations

import math

import numpy as np

from codecfake_hf.models.aasist.resampling import polyphase_resample

#: torchaudio's defaults, which the release's loader used.
LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def hann_sinc_table(
    up: int, down: int, lowpass_filter_width: int = LOWPASS_FILTER_WIDTH, rolloff: float = ROLLOFF
) -> tuple[np.ndarray, int]:
    """Interpolation weights ``[up, 2 * reach + 1]`` (float64) and ``reach`` (input samples) of the
    Hann-windowed sinc (module docstring) for the ratio ``up / down`` in lowest terms, in the layout
    :func:`~codecfake_hf.models.aasist.resampling.polyphase_resample` takes: row ``p`` holds the kernel
    at ``tau = p / up + reach - j``, ``j = 0 .. 2 * reach``."""
    cutoff = rolloff * min(1.0, up / down)
    reach = math.ceil(lowpass_filter_width / cutoff)
    tau = np.arange(up)[:, None] / up + reach - np.arange(2 * reach + 1)[None, :]
    scaled = cutoff * tau  # in zero crossings of the sinc
    window = np.where(
        np.abs(scaled) <= lowpass_filter_width, np.cos(np.pi * scaled / (2 * lowpass_filter_width)) ** 2, 0.0
    )
    return cutoff * np.sinc(scaled) * window, reach


def hann_sinc_output_length(num_samples: int, sampling_rate: int, target_sampling_rate: int) -> int:
    """Samples torchaudio's resampler gives for ``num_samples`` at ``sampling_rate`` Hz resampled to
    ``target_sampling_rate`` Hz: ``ceil(num_samples * target / source)``."""
    return -(-num_samples * target_sampling_rate // sampling_rate)


def hann_sinc_resample(
    waveform: np.ndarray,
    sampling_rate: int,
    target_sampling_rate: int,
    lowpass_filter_width: int = LOWPASS_FILTER_WIDTH,
    rolloff: float = ROLLOFF,
) -> np.ndarray:
    """Resample ``[T]`` or ``[T, channels]`` float audio from ``sampling_rate`` to
    ``target_sampling_rate`` Hz as ``torchaudio.functional.resample`` does with
    ``resampling_method="sinc_interp_hann"`` (module docstring).

    Returns float32 ``[ceil(T * target / source)]`` (channels kept); a copy when the rates are equal.

    Raises:
        ValueError: a rate is not a positive integer, ``lowpass_filter_width`` is below 1 or ``rolloff``
            is not in (0, 1].
    """
    if int(sampling_rate) != sampling_rate or int(target_sampling_rate) != target_sampling_rate:
        raise ValueError(
            f"sample rates must be whole numbers of Hz, got {sampling_rate} -> {target_sampling_rate}"
        )
    sampling_rate, target_sampling_rate = int(sampling_rate), int(target_sampling_rate)
    if sampling_rate <= 0 or target_sampling_rate <= 0:
        raise ValueError(
            f"invalid sample rates {sampling_rate} -> {target_sampling_rate} Hz; both must be positive"
        )
    if lowpass_filter_width < 1 or not 0 < rolloff <= 1:
        raise ValueError(
            f"lowpass_filter_width {lowpass_filter_width} must be >= 1 and rolloff {rolloff} in (0, 1]"
        )
    samples = np.asarray(waveform, dtype=np.float32)
    if sampling_rate == target_sampling_rate:
        return samples.copy()
    divisor = math.gcd(sampling_rate, target_sampling_rate)
    up, down = target_sampling_rate // divisor, sampling_rate // divisor
    table, reach = hann_sinc_table(up, down, lowpass_filter_width, rolloff)
    num_out = hann_sinc_output_length(samples.shape[0], sampling_rate, target_sampling_rate)
    return polyphase_resample(samples, up, down, table, reach, num_out)
