"""RawBoost data augmentation (Tak et al., "RawBoost: A Raw Data Boosting and Augmentation Method
applied to Automatic Speaker Verification Anti-Spoofing", ICASSP 2022, arXiv 2111.04433).

Written from the behaviour of ``RawBoost.py`` in TakHemlata/SSL_Anti-spoofing at ``4acaa61`` (identical
to TakHemlata/RawBoost-antispoofing at ``4f161a8``). Three algorithms on a mono waveform:

1. :func:`convolutive_noise` (linear and non-linear convolutive noise, "LnL"): the signal and its
   powers 2..N_f, each through its own random multi-band notch filter, summed.
2. :func:`impulsive_noise` (impulsive signal-dependent additive noise, "ISD"): up to P % of the
   samples scaled by a random factor in [1 - g_sd, 1 + g_sd].
3. :func:`stationary_noise` (stationary signal-independent additive noise, "SSI"): white Gaussian
   noise through a random notch filter, added at a random SNR.

:func:`rawboost` combines them as the official ``--algo`` values 0-8 (:data:`RAWBOOST_ALGORITHMS`);
the SSL-AASIST recipe uses 5 (LnL then ISD) for its LA model and 3 (SSI) for its DF model. Apply it to
the whole utterance before the fixed-length window is cut, to training data only.

FIR alignment: the official ``filterFIR`` keeps its output one sample ahead of the filter's
linear-phase delay; this is reproduced by default (``RawBoostConfig(fir_alignment="upstream")``). It
matters in the parallel mode 8, where the filtered LnL branch is added to the unfiltered ISD branch:
the one-sample lead makes the sum act as a ``(1 + z)`` low-pass (on white noise, with the published
defaults, 6-8 kHz holds about 4.5 % of the energy instead of the 25 % of a flat spectrum). In the
other modes the lead is a one-sample shift of the filtered signal. ``fir_alignment="centred"``
compensates the delay exactly instead.

Differences from the official code, on purpose: every random draw comes from an explicit
``numpy.random.Generator`` (the official code uses NumPy's global state, which DataLoader workers of
old torch versions shared); outputs are float32.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

#: The official ``--algo`` values: which algorithms run, and how they are combined.
RAWBOOST_ALGORITHMS: dict[int, str] = {
    0: "none",
    1: "LnL (convolutive)",
    2: "ISD (impulsive)",
    3: "SSI (stationary additive)",
    4: "LnL -> ISD -> SSI (series)",
    5: "LnL -> ISD (series)",
    6: "LnL -> SSI (series)",
    7: "ISD -> SSI (series)",
    8: "LnL + ISD (parallel, summed)",
}


#: Where :func:`fir_filter` places its output: one sample ahead of the filter's delay as the official
#: ``filterFIR`` (``upstream``), or exactly on it (``centred``).
FIR_ALIGNMENTS = ("upstream", "centred")


@dataclass(frozen=True)
class RawBoostConfig:
    """RawBoost's algorithm id and parameters; the defaults are the published ones (official
    argument names in brackets). Units: Hz, taps, dB, percent.

    Args:
        algorithm: one of :data:`RAWBOOST_ALGORITHMS` [``algo``]; 5 is the SSL-AASIST LA recipe,
            3 its DF recipe, 0 no augmentation.
        num_bands: notch filters per random filter [``nBands``] (algorithms 1 and 3).
        min_center_hz, max_center_hz: notch centre frequency range [``minF``, ``maxF``].
        min_bandwidth_hz, max_bandwidth_hz: notch width range [``minBW``, ``maxBW``].
        min_taps, max_taps: FIR length range per notch, made odd [``minCoeff``, ``maxCoeff``].
        min_gain_db, max_gain_db: peak gain range of the linear term and of the SSI noise filter
            [``minG``, ``maxG``].
        min_nonlinear_offset_db, max_nonlinear_offset_db: how much lower the non-linear terms' gain
            is: they draw from ``(min_gain_db - min_offset, max_gain_db - max_offset)``, i.e. -20..-5 dB
            [``minBiasLinNonLin``, ``maxBiasLinNonLin``].
        max_power: highest power of the signal in the convolutive noise, 1 = linear only [``N_f``].
        max_impulse_percent: largest share (%) of samples hit by impulses [``P``].
        impulse_gain: impulse factor spread, samples are scaled by ``1 + impulse_gain * f``,
            ``f`` in [-1, 1] [``g_sd``].
        min_snr_db, max_snr_db: SNR range of the stationary noise [``SNRmin``, ``SNRmax``].
        fir_alignment: one of :data:`FIR_ALIGNMENTS`; ``upstream`` (default) reproduces the official
            one-sample lead of the filtered signals, ``centred`` compensates the filters' delay exactly.
    """

    algorithm: int = 5
    num_bands: int = 5
    min_center_hz: float = 20.0
    max_center_hz: float = 8000.0
    min_bandwidth_hz: float = 100.0
    max_bandwidth_hz: float = 1000.0
    min_taps: int = 10
    max_taps: int = 100
    min_gain_db: float = 0.0
    max_gain_db: float = 0.0
    min_nonlinear_offset_db: float = 5.0
    max_nonlinear_offset_db: float = 20.0
    max_power: int = 5
    max_impulse_percent: float = 10.0
    impulse_gain: float = 2.0
    min_snr_db: float = 10.0
    max_snr_db: float = 40.0
    fir_alignment: str = "upstream"

    def __post_init__(self) -> None:
        problems = []
        if self.fir_alignment not in FIR_ALIGNMENTS:
            problems.append(
                f"fir_alignment must be one of {', '.join(FIR_ALIGNMENTS)}, got {self.fir_alignment!r}"
            )
        if self.algorithm not in RAWBOOST_ALGORITHMS:
            problems.append(f"algorithm must be one of {sorted(RAWBOOST_ALGORITHMS)}, got {self.algorithm}")
        if self.num_bands < 1 or self.max_power < 1:
            problems.append("num_bands and max_power must be >= 1")
        if not 1 <= self.min_taps <= self.max_taps:
            problems.append(f"need 1 <= min_taps <= max_taps, got {self.min_taps}, {self.max_taps}")
        if (
            not 0 <= self.min_center_hz <= self.max_center_hz
            or not 0 < self.min_bandwidth_hz <= self.max_bandwidth_hz
        ):
            problems.append(
                "need 0 <= min_center_hz <= max_center_hz and 0 < min_bandwidth_hz <= max_bandwidth_hz"
            )
        if not 0 <= self.max_impulse_percent <= 100:
            problems.append(f"max_impulse_percent must be in [0, 100], got {self.max_impulse_percent}")
        if self.min_snr_db > self.max_snr_db:
            problems.append(f"min_snr_db {self.min_snr_db} > max_snr_db {self.max_snr_db}")
        if problems:
            raise ValueError(f"RawBoostConfig: {'; '.join(problems)}")

    def to_dict(self) -> dict:
        return asdict(self)


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw uniform between ``low`` and ``high``; reversed bounds are allowed (the published
    non-linear gain range is written high-to-low: (-5, -20) dB)."""
    return low + (high - low) * rng.random()


def peak_normalize(waveform: np.ndarray, always: bool = False) -> np.ndarray:
    """Divide by the peak ``max|x|``: always, or (``always=False``) only when it exceeds 1."""
    peak = float(np.abs(waveform).max()) if waveform.size else 0.0
    return waveform / peak if peak > 0 and (always or peak > 1) else waveform


def fir_filter(waveform: np.ndarray, taps: np.ndarray, alignment: str = "upstream") -> np.ndarray:
    """Filter ``waveform [T]`` with the odd-length linear-phase FIR ``taps [K]`` (zeros after the end of
    the input); the output has the input's length ``T``. ``alignment="centred"`` compensates the
    ``(K - 1) / 2``-sample delay exactly; ``"upstream"`` starts one sample later, at ``(K + 1) / 2``, as
    the official ``filterFIR`` (its output leads by one sample)."""
    if alignment not in FIR_ALIGNMENTS:
        raise ValueError(f"unknown FIR alignment {alignment!r}; choose one of {', '.join(FIR_ALIGNMENTS)}")
    start = (taps.shape[0] - 1) // 2 + (alignment == "upstream")
    filtered = np.convolve(waveform, taps)[start : start + waveform.shape[0]]
    return np.pad(filtered, (0, waveform.shape[0] - filtered.shape[0]))  # a 1-tap filter runs one short


def random_notch_filter(
    rng: np.random.Generator, config: RawBoostConfig, gain_db_range: tuple[float, float], sampling_rate: int
) -> np.ndarray:
    """A random multi-band notch filter: the cascade of ``config.num_bands`` Hamming-window band-stop
    FIRs (centre, width and length drawn uniformly from the config's ranges; edges clipped to
    (0, Nyquist)), scaled so that its peak gain on a 512-point grid from 0 Hz to just below Nyquist is
    a gain drawn uniformly from ``gain_db_range`` (dB). Returns the taps ``[K]``, ``K`` odd."""
    nyquist = sampling_rate / 2
    cascade = np.ones(1)
    for _ in range(config.num_bands):
        center = uniform(rng, config.min_center_hz, config.max_center_hz)
        width = uniform(rng, config.min_bandwidth_hz, config.max_bandwidth_hz)
        num_taps = int(uniform(rng, config.min_taps, config.max_taps)) | 1  # band-stop FIRs need odd lengths
        low, high = max(center - width / 2, 1e-3), min(center + width / 2, nyquist - 1e-3)
        notch = signal.firwin(num_taps, [low, high], window="hamming", fs=sampling_rate)
        cascade = np.convolve(cascade, notch)
    gain_db = uniform(rng, *gain_db_range)
    _, response = signal.freqz(cascade, worN=512)
    return cascade * 10 ** (gain_db / 20) / np.abs(response).max()


def convolutive_noise(
    waveform: np.ndarray, rng: np.random.Generator, config: RawBoostConfig, sampling_rate: int
) -> np.ndarray:
    """Algorithm 1 (LnL): ``sum_j filter_j(x ** j)`` for ``j = 1 .. max_power``, each filter a new
    :func:`random_notch_filter` (peak gain in ``[min_gain_db, max_gain_db]`` for ``j = 1``, lowered by
    the non-linear offsets for ``j >= 2``); then the mean is removed and the peak brought to 1 if it
    exceeds it. ``[T]`` -> ``[T]`` float32."""
    waveform = np.asarray(waveform, dtype=np.float64)
    out = np.zeros_like(waveform)
    for power in range(1, config.max_power + 1):
        gains = (config.min_gain_db, config.max_gain_db)
        if power > 1:
            gains = (gains[0] - config.min_nonlinear_offset_db, gains[1] - config.max_nonlinear_offset_db)
        taps = random_notch_filter(rng, config, gains, sampling_rate)
        out += fir_filter(waveform**power, taps, config.fir_alignment)
    return peak_normalize(out - out.mean()).astype(np.float32)


def impulsive_noise(waveform: np.ndarray, rng: np.random.Generator, config: RawBoostConfig) -> np.ndarray:
    """Algorithm 2 (ISD): a share ``beta ~ U[0, max_impulse_percent)`` % of the samples, at distinct
    random positions, each multiplied by ``1 + impulse_gain * f`` with ``f`` the product of two
    ``U(-1, 1)`` draws; the peak is then brought to 1 if it exceeds it. Other samples are unchanged.
    ``[T]`` -> ``[T]`` float32."""
    out = np.array(waveform, dtype=np.float32)
    share = uniform(rng, 0, config.max_impulse_percent)
    positions = rng.permutation(out.shape[0])[: int(out.shape[0] * share / 100)]
    factors = (2 * rng.uniform(size=positions.shape[0]) - 1) * (2 * rng.uniform(size=positions.shape[0]) - 1)
    out[positions] *= (1 + config.impulse_gain * factors).astype(np.float32)
    return peak_normalize(out)


def stationary_noise(
    waveform: np.ndarray, rng: np.random.Generator, config: RawBoostConfig, sampling_rate: int
) -> np.ndarray:
    """Algorithm 3 (SSI): white Gaussian noise through a :func:`random_notch_filter` (gain in
    ``[min_gain_db, max_gain_db]``), added at an SNR ``~ U[min_snr_db, max_snr_db)`` dB measured over the
    whole clip (L2 norms). No normalisation: the output may exceed 1. ``[T]`` -> ``[T]`` float32."""
    waveform = np.asarray(waveform, dtype=np.float64)
    noise = rng.standard_normal(waveform.shape[0])
    taps = random_notch_filter(rng, config, (config.min_gain_db, config.max_gain_db), sampling_rate)
    noise = fir_filter(noise, taps, config.fir_alignment)
    snr_db = uniform(rng, config.min_snr_db, config.max_snr_db)
    noise_norm = np.linalg.norm(noise)
    if noise_norm > 0:
        noise *= np.linalg.norm(waveform) / 10 ** (snr_db / 20) / noise_norm
    return (waveform + noise).astype(np.float32)


def rawboost(
    waveform: np.ndarray, rng: np.random.Generator, config: RawBoostConfig, sampling_rate: int = 16000
) -> np.ndarray:
    """Apply ``config.algorithm`` (:data:`RAWBOOST_ALGORITHMS`) to one mono clip.

    Args:
        waveform: ``[T]`` samples in about [-1, 1], the whole utterance.
        rng: the source of every random draw (same generator state -> same output).
        config: algorithm id and parameters.
        sampling_rate: the clip's rate (Hz); the notch frequencies are in Hz (the published ranges
            assume 16 kHz: ``max_center_hz`` = Nyquist).

    Returns:
        ``[T]`` float32, the same length. Series modes feed each stage the previous one's output
        (each draws its own parameters); mode 8 sums LnL and ISD of the original and brings the peak
        to 1 if it exceeds it.
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1:
        raise ValueError(f"rawboost expects one mono clip [T], got shape {waveform.shape}")
    stages = {
        1: lambda x: convolutive_noise(x, rng, config, sampling_rate),
        2: lambda x: impulsive_noise(x, rng, config),
        3: lambda x: stationary_noise(x, rng, config, sampling_rate),
    }
    if config.algorithm == 8:
        return peak_normalize(stages[1](waveform) + stages[2](waveform))
    series = {0: (), 1: (1,), 2: (2,), 3: (3,), 4: (1, 2, 3), 5: (1, 2), 6: (1, 3), 7: (2, 3)}
    for stage in series[config.algorithm]:
        waveform = stages[stage](waveform)
    return waveform


def rawboost_transform(
    config: RawBoostConfig, column: str = "input_values", sampling_rate: int = 16000, seed: int = 0
):
    """A ``datasets``-style batched transform (``dataset.with_transform(...)`` / ``map(batched=True)``)
    that replaces ``batch[column]`` (a list of mono ``[T]`` clips) by their RawBoost versions.

    Each process, and each DataLoader worker of each epoch, draws from its own generator seeded by
    ``(seed, worker seed)`` (torch gives every worker a new seed per epoch), so forked workers do not
    repeat each other's draws as the official code's did.
    """
    import torch.utils.data

    generators: dict[int | None, np.random.Generator] = {}

    def transform(batch: dict) -> dict:
        worker = torch.utils.data.get_worker_info()
        key = None if worker is None else worker.seed
        if key not in generators:
            generators[key] = np.random.default_rng([seed] if key is None else [seed, key])
        rng = generators[key]
        return {**batch, column: [rawboost(clip, rng, config, sampling_rate) for clip in batch[column]]}

    return transform
