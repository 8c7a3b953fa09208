"""Is a build the paper's data? Two CodecFake folders compared utterance by utterance.

``BUILT`` (``codecfake build``) and ``IMPORTED`` (``codecfake import``, e.g. the authors' Hub release)
hold the same layout: a card whose ``configs:`` list ``data/<subset>/<split>-*.parquet`` with the columns
``utterance_id`` and ``audio`` (any others are ignored). For each subset (a config with its own
``data/<subset>/`` folder: the codec subsets and ``bonafide``; not ``default`` nor a mixture) the rows
of both sides are matched by ``utterance_id`` over the chosen splits (an utterance in another split on
the other side still matches, and is counted in ``n_split_differs``), and each pair is measured:

- **Common rate.** Both clips at ``sampling_rate`` Hz: by default the lower of the pair's two native
  rates (a codec subset is at its codec's rate on both sides, so nothing is resampled; bona fide at
  48 kHz in a VCTK build meets a 16 kHz release at 16 kHz), resampled with the project's resampler
  :func:`codecfake_hf.audio.resample` at its default, soxr "VHQ" (the one the build uses). Lengths are
  compared at that rate.
- **Lag.** The integer lag ``k`` within +-``max_lag_ms`` that maximises the cross-correlation
  ``sum_n built[n + k] * imported[n]`` (scipy, FFT): ``k > 0`` means the build's audio comes ``k``
  samples later than the release's. Ties and silent clips give the smallest ``|k|``.
- **SNR** (dB), the release as the reference: ``10 log10(sum y^2 / sum (x - y)^2)`` for the build ``x``
  and release ``y``. ``snr_db`` at lag 0 with gain 1 over the first ``min(len)`` samples;
  ``aligned_snr_db`` over the overlap at lag ``k``; ``gain_compensated_snr_db`` over the same overlap
  with ``x`` scaled by the least-squares gain ``g = sum x y / sum x^2`` (``gain_db = 20 log10 g``: what
  the build must be multiplied by to match the release; NaN when ``g <= 0``). Bit-identical audio gives
  ``inf``. ``correlation`` is Pearson's over the aligned overlap.
- **Low band.** Below 70 % of the Nyquist frequency of the common rate (:data:`LOW_BAND`) the usual
  resamplers agree; above it they differ. torchaudio's default design (a Hann-windowed sinc of 6 zero
  crossings, roll-off 0.99), which the release's generation put in front of its 24 and 44.1 kHz
  codecs, is flat within 0.15 dB up to 0.75 of the Nyquist frequency, 1.8 dB down at 0.875 of it, and
  lets what lies just above it alias back (-11 dB at 1.06 of it); soxr VHQ, the build's
  resampler, is flat up to 0.913 and stops everything from 1.0 on. ``low_band_snr_db`` is the
  gain-compensated SNR counted over the FFT bins of the low band only.
- **Log-spectral distance** (dB), over the aligned and gain-compensated overlap: power spectra of
  Hann-windowed frames of 32 ms every 8 ms (``round(0.032 * rate)`` and ``round(0.008 * rate)``
  samples, as many frequency bins as the FFT of one frame gives; a clip shorter than one frame is
  zero-padded to one), the bins of the low band, floored at -80 dB below the strongest such bin of the
  release's spectrogram; then per frame the root mean square over those bins of the difference of
  ``10 log10`` powers, averaged over frames.

A subset's verdict compares the medians over its readable pairs with the thresholds
(:class:`ComparisonOptions`, :func:`subset_verdict`): ``same`` when the median ``snr_db`` is at least
``min_snr_db`` and the median log-spectral distance at most ``max_lsd_db``; ``same after alignment``
when that SNR is reached only once lag and gain are removed; ``same up to <f> kHz`` when only the low
band reaches it; ``differs`` otherwise. The
docs/published-corpora.md ("Is my build the paper's data?") gives the thresholds' rationale.

Rows are streamed: the ``utterance_id`` columns are read whole, the audio one parquet row group at a time
(the imported side through a small cache of row groups, so two folders stored in the same order are
each read once), and the per-utterance table is written as it grows.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from huggingface_hub import DatasetCard
from tqdm.auto import tqdm

from codecfake_hf.audio.audio_io import AudioError, read_audio_value, require_resampled, resample
from codecfake_hf.data.dataset_card import card_configs, own_data_configs, own_data_patterns, read_card
from codecfake_hf.data.loading import DatasetError, local_config_files
from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.atomic_files import atomic_path

logger = logging.getLogger(__name__)

#: Defaults of :class:`ComparisonOptions` (docs/published-corpora.md, "Is my build the paper's data?").
DEFAULT_MAX_LAG_MS = 50.0
DEFAULT_MIN_SNR_DB = 20.0
DEFAULT_MAX_LSD_DB = 2.0
#: The low band, a fraction of the Nyquist frequency: below it the usual resamplers agree (torchaudio's
#: default Hann-windowed sinc is flat within 0.15 dB up to 0.75 of it, soxr VHQ up to 0.913), above it
#: they differ by dB in level and in what they let alias. The band of ``low_band_snr_db`` and of the
#: log-spectral distance.
LOW_BAND = 0.7
#: Log-spectral distance: frame and hop (seconds), the floor below the release's strongest bin (dB).
LSD_FRAME_SECONDS = 0.032
LSD_HOP_SECONDS = 0.008
LSD_FLOOR_DB = -80.0
#: Parquet row groups of the imported side held in memory at once (their encoded audio bytes).
ROW_GROUP_CACHE = 8

#: What :func:`compare_datasets` writes into its output folder.
UTTERANCES_CSV = "compare_utterances.csv"
SUMMARY_CSV = "compare_summary.csv"
HISTOGRAM_PNG = "compare_snr.png"

#: The measurements of one pair (:func:`compare_waveforms`), in the per-utterance table's order.
PAIR_COLUMNS = (
    "sampling_rate",
    "samples_built",
    "samples_imported",
    "length_difference_samples",
    "length_difference_ms",
    "lag_samples",
    "lag_ms",
    "snr_db",
    "aligned_snr_db",
    "gain_db",
    "gain_compensated_snr_db",
    "low_band_snr_db",
    "correlation",
    "lsd_db",
)
#: The per-utterance table (``compare_utterances.csv``); ``status`` is ``matched``, ``unreadable``,
#: ``only_built`` or ``only_imported``.
UTTERANCE_COLUMNS = (
    "subset",
    "utterance_id",
    "status",
    "split_built",
    "split_imported",
    "sampling_rate_built",
    "sampling_rate_imported",
    *PAIR_COLUMNS,
    "error",
)
#: Medians of the summary (``compare_summary.csv``): ``median_<column>``.
MEDIAN_COLUMNS = (
    "length_difference_ms",
    "lag_ms",
    "gain_db",
    "snr_db",
    "aligned_snr_db",
    "gain_compensated_snr_db",
    "low_band_snr_db",
    "correlation",
    "lsd_db",
)
SAME, SAME_AFTER_ALIGNMENT, DIFFERS, NOT_COMPARED = "same", "same after alignment", "differs", "not compared"
#: The verdict when only the low band agrees, with its upper edge in kHz.
SAME_LOW_BAND = "same up to {khz:.3g} kHz"


@dataclass(frozen=True)
class ComparisonOptions:
    """How pairs are measured and judged (module docstring).

    Attributes:
        sampling_rate: common rate (Hz) of every pair; None: the lower of each pair's two rates.
        max_lag_ms: the lag search window, +- this many milliseconds.
        min_snr_db: a subset is ``same`` when its median SNR (dB) is at least this ...
        max_lsd_db: ... and its median log-spectral distance (dB) at most this.
    """

    sampling_rate: int | None = None
    max_lag_ms: float = DEFAULT_MAX_LAG_MS
    min_snr_db: float = DEFAULT_MIN_SNR_DB
    max_lsd_db: float = DEFAULT_MAX_LSD_DB

    def __post_init__(self) -> None:
        if self.sampling_rate is not None and self.sampling_rate <= 0:
            raise CodecFakeError(
                f"--sampling-rate {self.sampling_rate}: give a rate in Hz above 0, e.g. 16000"
            )
        if not self.max_lag_ms >= 0:
            raise CodecFakeError(f"--max-lag-ms {self.max_lag_ms}: give 0 (no lag search) or more")
        if not self.max_lsd_db >= 0:
            raise CodecFakeError(f"--max-lsd-db {self.max_lsd_db}: a distance in dB, 0 or more")


# --- the numbers of one pair -----------------------------------------------------------------------


def snr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """``10 log10(sum reference^2 / sum (estimate - reference)^2)`` (dB) of two equal-length ``[T]``
    signals: ``inf`` when they are equal, ``-inf`` when only the reference is silent."""
    noise = float(np.sum((np.asarray(estimate, np.float64) - reference) ** 2))
    signal = float(np.sum(np.asarray(reference, np.float64) ** 2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def best_lag(built: np.ndarray, imported: np.ndarray, max_lag: int) -> int:
    """The lag ``k`` in ``[-max_lag, max_lag]`` (samples) maximising ``sum_n built[n + k] imported[n]``;
    among equal maxima, and for a silent clip, the smallest ``|k|``."""
    from scipy.signal import correlate, correlation_lags

    if max_lag <= 0 or not np.any(built) or not np.any(imported):
        return 0
    correlation = correlate(built, imported, mode="full", method="fft")
    lags = correlation_lags(built.shape[0], imported.shape[0], mode="full")
    window = np.flatnonzero(np.abs(lags) <= max_lag)
    window = window[np.argsort(np.abs(lags[window]), kind="stable")]  # argmax keeps the first maximum
    return int(lags[window[np.argmax(correlation[window])]])


def aligned_overlap(built: np.ndarray, imported: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """The overlap of the two clips when ``built[n + lag]`` lines up with ``imported[n]``: two ``[N]``
    views of equal length."""
    built, imported = (built[lag:], imported) if lag >= 0 else (built, imported[-lag:])
    length = min(built.shape[0], imported.shape[0])
    return built[:length], imported[:length]


def log_spectral_distance(estimate: np.ndarray, reference: np.ndarray, sampling_rate: int) -> float:
    """Log-spectral distance (dB) of two equal-length ``[T]`` signals at ``sampling_rate`` Hz: Hann
    frames of :data:`LSD_FRAME_SECONDS` every :data:`LSD_HOP_SECONDS`, power spectra up to
    :data:`LOW_BAND` of the Nyquist frequency floored at :data:`LSD_FLOOR_DB` below the
    reference's strongest bin, the RMS over bins of the ``10 log10`` difference, averaged over frames
    (module docstring)."""
    from scipy.signal import get_window

    frame = max(1, round(LSD_FRAME_SECONDS * sampling_rate))
    hop = max(1, round(LSD_HOP_SECONDS * sampling_rate))
    window = get_window("hann", frame)

    bins = low_band_bins(frame)

    def power(signal: np.ndarray) -> np.ndarray:  # [frames, bins]
        signal = np.pad(np.asarray(signal, np.float64), (0, max(0, frame - signal.shape[0])))
        frames = np.lib.stride_tricks.sliding_window_view(signal, frame)[::hop]
        return np.abs(np.fft.rfft(frames * window, axis=-1)[:, :bins]) ** 2

    estimate_power, reference_power = power(estimate), power(reference)
    floor = max(float(reference_power.max()) * 10.0 ** (LSD_FLOOR_DB / 10.0), np.finfo(np.float64).tiny)
    difference = 10.0 * (
        np.log10(np.maximum(estimate_power, floor)) - np.log10(np.maximum(reference_power, floor))
    )
    return float(np.sqrt(np.mean(difference**2, axis=-1)).mean())


def low_band_bins(length: int) -> int:
    """How many bins of ``numpy.fft.rfft`` of ``length`` samples lie in the low band: 0 Hz up to
    :data:`LOW_BAND` of the Nyquist frequency."""
    return math.floor(LOW_BAND * (length // 2)) + 1


def low_band_snr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """:func:`snr_db` of two equal-length ``[T]`` signals counted in the low band only (:data:`LOW_BAND`;
    Parseval over the bins of one FFT of the whole signals, zero-padded to a length the FFT is fast at)."""
    from scipy.fft import next_fast_len, rfft

    length = next_fast_len(reference.shape[0], real=True)
    bins = low_band_bins(length)
    spectra = [rfft(np.asarray(signal, np.float64), n=length)[:bins] for signal in (estimate, reference)]
    noise, signal = np.sum(np.abs(spectra[0] - spectra[1]) ** 2), np.sum(np.abs(spectra[1]) ** 2)
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


def compare_waveforms(
    built: np.ndarray,
    built_sampling_rate: int,
    imported: np.ndarray,
    imported_sampling_rate: int,
    sampling_rate: int | None = None,
    max_lag_ms: float = DEFAULT_MAX_LAG_MS,
    name: str | None = None,
) -> dict[str, float]:
    """Measure the build's clip against the release's (module docstring).

    Args:
        built, imported: mono float ``[T]`` clips at their own rates (Hz).
        sampling_rate: the common rate; None: the lower of the two.
        max_lag_ms: the lag search window (+- milliseconds).
        name: names the clip in errors.

    Returns:
        ``{column: value}`` for the columns of :data:`PAIR_COLUMNS` (samples at the common rate, ms, dB).

    Raises:
        AudioError: a clip too short to give one sample at the common rate.
    """
    rate = int(sampling_rate or min(built_sampling_rate, imported_sampling_rate))
    signals = []
    for signal, own_rate in ((built, built_sampling_rate), (imported, imported_sampling_rate)):
        resampled = resample(signal, own_rate, rate)
        require_resampled(signal.shape[0], resampled.shape[0], own_rate, rate, name)
        signals.append(np.asarray(resampled, np.float64))
    x, y = signals
    lag = best_lag(x, y, round(max_lag_ms * rate / 1000.0))
    raw_x, raw_y = aligned_overlap(x, y, 0)
    x, y = aligned_overlap(x, y, lag)
    energy = float(np.dot(x, x))
    gain = float(np.dot(x, y)) / energy if energy > 0 else math.nan
    compensated = gain * x if gain > 0 else x
    correlation = (
        float(np.corrcoef(x, y)[0, 1]) if x.shape[0] > 1 and x.std() > 0 and y.std() > 0 else math.nan
    )
    difference = signals[0].shape[0] - signals[1].shape[0]
    return {
        "sampling_rate": rate,
        "samples_built": signals[0].shape[0],
        "samples_imported": signals[1].shape[0],
        "length_difference_samples": difference,
        "length_difference_ms": 1000.0 * difference / rate,
        "lag_samples": lag,
        "lag_ms": 1000.0 * lag / rate,
        "snr_db": snr_db(raw_x, raw_y),
        "aligned_snr_db": snr_db(x, y),
        "gain_db": 20.0 * math.log10(gain) if gain > 0 else math.nan,
        "gain_compensated_snr_db": snr_db(gain * x, y) if gain > 0 else math.nan,
        "low_band_snr_db": low_band_snr_db(compensated, y) if x.shape[0] else math.nan,
        "correlation": correlation,
        "lsd_db": log_spectral_distance(compensated, y, rate) if x.shape[0] else math.nan,
    }


# --- the folders --------------------------------------------------------------------------------


def _card(folder: Path, role: str) -> DatasetCard:
    """The card of a dataset folder, or an error naming ``role`` and the folder."""
    if not folder.is_dir():
        raise InputFileError(
            f"{role} {folder}: no such folder; pass a dataset folder written by `codecfake build` or "
            "`codecfake import`"
        )
    try:
        card = read_card(folder)
    except ValueError as error:  # a README.md whose YAML header does not parse
        raise DatasetError(
            f"{role} {folder}: its README.md does not parse as a dataset card ({error})"
        ) from None
    if card is None or not card_configs(card):
        raise DatasetError(
            f"{role} {folder}: not a dataset folder (no README.md listing configs:); pass a folder written by "
            "`codecfake build` or `codecfake import`"
        )
    return card


def comparable_subsets(folder: str | os.PathLike, role: str = "dataset") -> list[str]:
    """The configs of a dataset folder that hold their own rows (``data/<config>/``): the codec subsets
    and ``bonafide``, in card order; not ``default`` nor a mixture, which only pool those.

    Raises:
        InputFileError, DatasetError: no such folder, or not a dataset folder (no card with ``configs:``).
    """
    return own_data_configs(_card(Path(folder), role))


class SubsetRows:
    """The rows of one subset of a dataset folder (its ``data/<subset>/`` parquet files over ``splits``):
    every ``utterance_id`` and where its row is, and the audio of a row on demand.

    Args:
        folder: the dataset folder.
        subset: the config.
        splits: the splits to read; None: every split the card lists for it.
        role: "BUILT" or "IMPORTED", naming the side in errors.

    Raises:
        DatasetError: no such split, a file without ``utterance_id`` or ``audio``, an id twice.
        InputFileError: a split's files are missing or are not parquet.
    """

    def __init__(
        self, folder: str | os.PathLike, subset: str, splits: Sequence[str] | None, role: str
    ) -> None:
        import pyarrow.parquet as pq

        self.folder, self.subset, self.role = Path(folder), subset, role
        own = own_data_patterns(_card(self.folder, role), subset)
        missing = [split for split in splits or () if split not in own]
        if missing:
            raise DatasetError(
                f"{role} {self.folder}: subset {subset} has no split {', '.join(missing)} (its splits: "
                f"{', '.join(own)}); choose from those with --splits"
            )
        subset_folder = (self.folder / "data" / subset).resolve()
        self.files: list[tuple[str, Path]] = [
            (split, Path(path))
            for split in (splits or list(own))
            for path in local_config_files(self.folder, subset, split) or []
            if Path(path).parent == subset_folder
        ]
        self.locations: dict[str, tuple[int, int, int]] = {}  # id -> (file, row group, row in it)
        self.row_groups: list[tuple[int, int]] = []  # (file, row group), in storage order
        for file_index, (_, path) in enumerate(self.files):
            try:
                parquet = pq.ParquetFile(path)
            except Exception as error:  # pyarrow raises ArrowInvalid / OSError for a file that is not parquet
                raise InputFileError(f"{role} {path}: not a readable parquet file ({error})") from None
            absent = [
                column for column in ("utterance_id", "audio") if column not in parquet.schema_arrow.names
            ]
            if absent:
                raise DatasetError(
                    f"{role} {path}: no column {', '.join(absent)} (columns: "
                    f"{', '.join(parquet.schema_arrow.names)}); compare needs utterance_id and audio"
                )
            for group in range(parquet.metadata.num_row_groups):
                ids = parquet.read_row_group(group, columns=["utterance_id"]).column(0).to_pylist()
                for row, utterance in enumerate(ids):
                    if utterance in self.locations:
                        first = self.files[self.locations[utterance][0]][1]
                        raise DatasetError(
                            f"{role} {self.folder}: subset {subset} holds utterance_id {utterance!r} twice "
                            f"({first.name} and {path.name}); one row per utterance is needed to match them"
                        )
                    self.locations[str(utterance)] = (file_index, group, row)
                self.row_groups.append((file_index, group))
        self._cache: OrderedDict[tuple[int, int], list[dict]] = OrderedDict()

    def split(self, utterance_id: str) -> str:
        return self.files[self.locations[utterance_id][0]][0]

    def _rows(self, file_index: int, group: int) -> list[dict]:
        """The ``utterance_id`` and ``audio`` of a row group, through a cache of :data:`ROW_GROUP_CACHE`."""
        import pyarrow.parquet as pq

        key = (file_index, group)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        rows = pq.ParquetFile(self.files[file_index][1]).read_row_group(
            group, columns=["utterance_id", "audio"]
        )
        self._cache[key] = rows.to_pylist()
        if len(self._cache) > ROW_GROUP_CACHE:
            self._cache.popitem(last=False)
        return self._cache[key]

    def audio(self, utterance_id: str) -> dict:
        """The ``audio`` value (``{"bytes", "path"}``) of the row of ``utterance_id``."""
        file_index, group, row = self.locations[utterance_id]
        return self._rows(file_index, group)[row]["audio"]

    def rows(self) -> Iterator[dict]:
        """Every row's ``utterance_id`` and ``audio``, in storage order, one row group in memory at a time."""
        import pyarrow.parquet as pq

        for file_index, group in self.row_groups:
            yield from (
                pq.ParquetFile(self.files[file_index][1])
                .read_row_group(group, columns=["utterance_id", "audio"])
                .to_pylist()
            )


def _examples(ids: Sequence[str], count: int = 3) -> str:
    shown = ", ".join(sorted(ids)[:count])
    return f"{len(ids)} utterance(s){', e.g. ' + shown if shown else ''}"


# --- the report ---------------------------------------------------------------------------------


@dataclass
class ComparisonReport:
    """What :func:`compare_datasets` found.

    Attributes:
        summary: one row per subset (index ``subset``): ``verdict``, the counts, the common rate(s),
            the medians ``median_<column>`` of :data:`MEDIAN_COLUMNS` and the thresholds used.
        files: the files written (per-utterance CSV, summary CSV, histogram PNG).
        only_built, only_imported: subsets one side holds and the other does not (not compared).
    """

    summary: pd.DataFrame
    files: list[Path] = field(default_factory=list)
    only_built: list[str] = field(default_factory=list)
    only_imported: list[str] = field(default_factory=list)

    @property
    def n_unreadable(self) -> int:
        return int(self.summary["n_unreadable"].sum())


def subset_verdict(medians: dict[str, float], options: ComparisonOptions, sampling_rate: int) -> str:
    """A subset's verdict from its medians (``median_<column>``), the first that holds:

    - ``same``: ``snr_db`` at least ``options.min_snr_db`` and ``lsd_db`` at most ``options.max_lsd_db``;
    - ``same after alignment``: the same with ``gain_compensated_snr_db`` (lag and gain removed);
    - ``same up to <f> kHz``: the same with ``low_band_snr_db`` (the low band of :data:`LOW_BAND` at
      ``sampling_rate`` Hz, the lowest common rate of the subset);
    - ``differs``; ``not compared`` when no pair was readable.
    """
    snr, compensated, low_band, lsd = (
        medians[f"median_{name}"]
        for name in ("snr_db", "gain_compensated_snr_db", "low_band_snr_db", "lsd_db")
    )
    if math.isnan(snr):
        return NOT_COMPARED
    if not lsd <= options.max_lsd_db:
        return DIFFERS
    if snr >= options.min_snr_db:
        return SAME
    if compensated >= options.min_snr_db:
        return SAME_AFTER_ALIGNMENT
    if low_band >= options.min_snr_db:
        return SAME_LOW_BAND.format(khz=LOW_BAND * sampling_rate / 2000)
    return DIFFERS


def _subsets_to_compare(
    built: Path, imported: Path, subsets: Sequence[str] | None
) -> tuple[list[str], list[str], list[str]]:
    """``(subsets, only in built, only in imported)``: the requested subsets (checked on both sides),
    or, for None, every comparable subset the two folders share."""
    ours, theirs = comparable_subsets(built, "BUILT"), comparable_subsets(imported, "IMPORTED")
    only_built = [subset for subset in ours if subset not in theirs]
    only_imported = [subset for subset in theirs if subset not in ours]
    if subsets is None:
        shared = [subset for subset in ours if subset in theirs]
        if not shared:
            raise DatasetError(
                f"BUILT {built} and IMPORTED {imported} have no subset in common (BUILT: {', '.join(ours)}; "
                f"IMPORTED: {', '.join(theirs)}); build or import the same subsets"
            )
        return shared, only_built, only_imported
    for role, folder, names in (("BUILT", built, ours), ("IMPORTED", imported, theirs)):
        absent = [subset for subset in subsets if subset not in names]
        if absent:
            raise DatasetError(
                f"{role} {folder}: no subset {', '.join(absent)} (its subsets: {', '.join(names)}); leave it "
                "out of --subsets, or build / import it"
            )
    return list(subsets), only_built, only_imported


def compare_datasets(
    built: str | os.PathLike,
    imported: str | os.PathLike,
    subsets: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    output_dir: str | os.PathLike = "compare",
    options: ComparisonOptions | None = None,
    num_proc: int = 1,
) -> ComparisonReport:
    """Compare two dataset folders utterance by utterance (module docstring) and write the tables.

    Args:
        built: a folder written by ``codecfake build``.
        imported: a folder written by ``codecfake import`` (or another build).
        subsets: the subsets to compare (each must be on both sides); None: every subset both hold.
        splits: the splits to read on both sides; None: every split a subset has.
        output_dir: receives :data:`UTTERANCES_CSV` (one row per utterance of either side),
            :data:`SUMMARY_CSV` (one row per subset) and :data:`HISTOGRAM_PNG` (SNR per subset);
            each written to a temporary file and renamed.
        options: lag window, common rate and verdict thresholds.
        num_proc: processes that decode and measure the pairs (the main one reads and writes).

    Raises:
        InputFileError, DatasetError: a folder that is not a dataset, a subset or split missing on one
            side, a subset in which the two sides share no ``utterance_id`` (all checked before any
            audio is compared), an ``utterance_id`` twice on one side.
    """
    options = options or ComparisonOptions()
    if num_proc < 1:
        raise CodecFakeError(f"--num-proc {num_proc}: give 1 or more processes")
    built, imported = Path(built), Path(imported)
    chosen, only_built, only_imported = _subsets_to_compare(built, imported, subsets)
    sides = {}
    for subset in chosen:
        ours, theirs = (
            SubsetRows(built, subset, splits, "BUILT"),
            SubsetRows(imported, subset, splits, "IMPORTED"),
        )
        if not ours.locations.keys() & theirs.locations.keys():
            raise DatasetError(
                f"BUILT {built} and IMPORTED {imported} share no utterance_id in subset {subset} (BUILT: "
                f"{_examples(list(ours.locations))}; IMPORTED: {_examples(list(theirs.locations))}); both "
                f"need VCTK ids such as p225_001 for the same corpus, or leave {subset} out with --subsets"
            )
        sides[subset] = (ours, theirs)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    records, snrs = [], {}
    with atomic_path(out / UTTERANCES_CSV) as temporary, temporary.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=UTTERANCE_COLUMNS, restval="")
        writer.writeheader()
        for subset, (ours, theirs) in sides.items():
            measured = _compare_subset(subset, ours, theirs, options, writer, num_proc)
            snrs[subset] = measured
            records.append(_summary_record(subset, ours, theirs, measured, options))
    summary = pd.DataFrame.from_records(records).set_index("subset")
    with atomic_path(out / SUMMARY_CSV) as temporary:
        summary.to_csv(temporary)
    with atomic_path(out / HISTOGRAM_PNG) as temporary:
        plot_snr_histograms(snrs, temporary, options.min_snr_db)
    files = [out / UTTERANCES_CSV, out / SUMMARY_CSV, out / HISTOGRAM_PNG]
    return ComparisonReport(summary, files, only_built, only_imported)


def _measure_pair(task: tuple) -> tuple[str, str | tuple[int, int, dict[str, float]]]:
    """One pair, in this process or a worker: ``(utterance, subset, built audio, imported audio,
    sampling_rate, max_lag_ms)`` -> ``(utterance, (built rate, imported rate, measurements))``, or the
    reason the audio cannot be read instead of the measurements."""
    utterance, subset, built_audio, imported_audio, sampling_rate, max_lag_ms = task
    try:
        built, built_rate = read_audio_value(built_audio, f"BUILT {subset}/{utterance}")
        imported, imported_rate = read_audio_value(imported_audio, f"IMPORTED {subset}/{utterance}")
        pair = compare_waveforms(built, built_rate, imported, imported_rate, sampling_rate, max_lag_ms,
                                 f"{subset}/{utterance}")  # fmt: skip
    except AudioError as error:
        return utterance, str(error)
    return utterance, (built_rate, imported_rate, pair)


def _in_order(function, tasks: Iterator[tuple], num_proc: int) -> Iterator:
    """``map(function, tasks)``; with ``num_proc > 1`` in that many worker processes, results in order,
    at most ``4 * num_proc`` tasks (their audio bytes) in flight."""
    if num_proc <= 1:
        yield from map(function, tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(num_proc, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(function, task))
            if len(pending) >= 4 * num_proc:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _compare_subset(
    subset: str,
    ours: SubsetRows,
    theirs: SubsetRows,
    options: ComparisonOptions,
    writer: csv.DictWriter,
    num_proc: int,
) -> pd.DataFrame:
    """Measure every matched pair of one subset, writing one line per utterance of either side (the
    matched in the build's storage order, then those of one side only); returns the measurements of the
    readable pairs (:data:`PAIR_COLUMNS`) and whether each pair's splits differ."""
    matched = ours.locations.keys() & theirs.locations.keys()
    only_built: list[str] = []

    def tasks() -> Iterator[tuple]:
        for row in ours.rows():
            utterance = row["utterance_id"]
            if utterance in matched:
                yield (utterance, subset, row["audio"], theirs.audio(utterance), options.sampling_rate,
                       options.max_lag_ms)  # fmt: skip
            else:
                only_built.append(utterance)

    measured = []
    for utterance, outcome in tqdm(
        _in_order(_measure_pair, tasks(), num_proc),
        total=len(matched),
        desc=f"comparing {subset}",
        unit="utt",
    ):
        line = {"subset": subset, "utterance_id": utterance, "split_built": ours.split(utterance),
                "split_imported": theirs.split(utterance)}  # fmt: skip
        if isinstance(outcome, str):
            logger.warning("%s; not compared", outcome)
            writer.writerow(line | {"status": "unreadable", "error": outcome})
            continue
        built_rate, imported_rate, pair = outcome
        line |= {
            "status": "matched",
            "sampling_rate_built": built_rate,
            "sampling_rate_imported": imported_rate,
        }
        writer.writerow(line | pair)
        measured.append(pair | {"split_differs": line["split_built"] != line["split_imported"]})
    for utterance in only_built:
        writer.writerow({"subset": subset, "utterance_id": utterance, "status": "only_built",
                         "split_built": ours.split(utterance)})  # fmt: skip
    for utterance in sorted(theirs.locations.keys() - matched):
        writer.writerow({"subset": subset, "utterance_id": utterance, "status": "only_imported",
                         "split_imported": theirs.split(utterance)})  # fmt: skip
    return pd.DataFrame.from_records(measured, columns=[*PAIR_COLUMNS, "split_differs"])


def _summary_record(
    subset: str, ours: SubsetRows, theirs: SubsetRows, measured: pd.DataFrame, options: ComparisonOptions
) -> dict:
    matched = ours.locations.keys() & theirs.locations.keys()
    with np.errstate(invalid="ignore"):  # medians of inf and -inf
        medians = {f"median_{column}": _median(measured[column]) for column in MEDIAN_COLUMNS}
    rates = sorted({int(rate) for rate in measured["sampling_rate"]})
    return {
        "subset": subset,
        "verdict": subset_verdict(medians, options, rates[0] if rates else 0),
        "n_built": len(ours.locations),
        "n_imported": len(theirs.locations),
        "n_matched": len(matched),
        "n_compared": len(measured),
        "n_unreadable": len(matched) - len(measured),
        "n_only_built": len(ours.locations.keys() - matched),
        "n_only_imported": len(theirs.locations.keys() - matched),
        "n_split_differs": int(measured["split_differs"].sum()),
        "sampling_rate": ",".join(map(str, rates)),
        **medians,
        "min_snr_db": options.min_snr_db,
        "max_lsd_db": options.max_lsd_db,
        "max_lag_ms": options.max_lag_ms,
    }


def _median(values: pd.Series) -> float:
    """The median of the non-NaN values (``inf`` counts as a value), NaN when there is none."""
    values = values.dropna().to_numpy(dtype=np.float64)
    return float(np.median(values)) if values.size else math.nan


def plot_snr_histograms(
    measured: dict[str, pd.DataFrame], path: str | os.PathLike, threshold_db: float
) -> Path:
    """A PNG with one histogram per subset of ``snr_db`` (filled) and ``gain_compensated_snr_db``
    (outline), the verdict threshold as a dashed line; bit-identical pairs (SNR ``inf``) are counted
    in the panel's title, not drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(4, len(measured))
    rows = math.ceil(len(measured) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.flat[len(measured) :]:
        axis.set_visible(False)
    for axis, (subset, pairs) in zip(axes.flat, measured.items()):
        raw, compensated = (
            pairs[column].to_numpy(np.float64) for column in ("snr_db", "gain_compensated_snr_db")
        )
        finite = np.concatenate([raw[np.isfinite(raw)], compensated[np.isfinite(compensated)]])
        low = min(0.0, float(finite.min())) if finite.size else 0.0
        high = max(threshold_db + 10.0, float(finite.max()) if finite.size else 0.0)
        bins = np.linspace(low, high, 41)
        axis.hist(raw[np.isfinite(raw)], bins=bins, color="tab:blue", alpha=0.6, label="SNR")
        axis.hist(compensated[np.isfinite(compensated)], bins=bins, histtype="step", color="tab:orange",
                  label="lag + gain removed")  # fmt: skip
        axis.axvline(threshold_db, color="black", linestyle="--", linewidth=1)
        identical = int(np.isposinf(raw).sum())
        if not finite.size:
            axis.text(0.5, 0.5, "no finite SNR" + (" (identical)" if identical else ""), ha="center",
                      transform=axis.transAxes)  # fmt: skip
        axis.set_title(
            f"{subset} (n={raw.size}" + (f", {identical} identical" if identical else "") + ")", fontsize=9
        )
        axis.set_xlabel("SNR against the release (dB)", fontsize=8)
        axis.set_ylabel("utterances", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)
    return Path(path)
