"""Scoring audio with a saved detector: the one place that turns waveforms or files into scores.

A :class:`Detector` wraps any ``transformers`` audio-classification model and its feature extractor
(AASIST converted by ``codecfake convert-aasist`` or trained by ``train.py``, or another classifier
with a bona fide label). The score is the bona fide logit (AASIST: ``logits[:, 1]``, higher = more
bona fide, the value used for EER); the probability is its softmax probability; the label is the
arg-max class. Audio of any rate is resampled with :func:`codecfake_hf.audio.resample`. For AASIST,
``mode="first"`` scores the official first 64,600 samples and ``mode="full"`` averages the logits of
windows covering the whole recording.

Files are streamed (:meth:`Detector.detect_files`, :meth:`Detector.score_sources`): background threads
read them in blocks, resample them in a streaming form of the same resampler and cut windows as they
arrive (:mod:`codecfake_hf.detection.read_ahead`), while the model scores ``batch_size`` windows per forward pass,
taken across files. Memory grows neither with a recording's length nor with the number of files
(``benchmarks/bench_detect_memory.py``), and many short files run at the model's batched rate
(``benchmarks/bench_detect_files.py``).

It is used by ``codecfake detect``, by evaluation (:mod:`codecfake_hf.evaluation.scoring`), by the app
(:mod:`codecfake_hf.app`) and, as a ``score_fn(waveforms, sampling_rate)``, by the robustness report
(:mod:`codecfake_hf.evaluation.robustness`).

Which logit is bona fide is never guessed: the model's ``id2label`` must name exactly one class
with a bona fide name (``codecfake_hf.data.labels.BONAFIDE_NAMES``: "bonafide", "genuine", "real", ...), or
the caller names it (``bonafide_label=``, ``codecfake detect --bonafide-label``); a classifier with
``LABEL_0`` / ``LABEL_1`` is refused. A verdict on a file (:meth:`Detector.detect_files`) is refused
for silent audio and audio shorter than 0.5 s (``feature_extraction_aasist.check_judgeable``);
scores for EER (:meth:`Detector.score`) follow the official protocol and score every clip.

A detector whose config holds a calibration (:mod:`codecfake_hf.detection.calibration`, ``codecfake calibrate``)
reports more per file: ``llr`` (the calibrated natural-log likelihood ratio), ``probability`` becomes the
bona fide posterior at ``prior_spoof`` and ``label`` the verdict of the stored operating point. The score
(and every EER) stays the raw bona fide logit. Without a calibration the results are as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from codecfake_hf.audio.audio_io import (
    AudioError,
    AudioFile,
    read_audio_value,
    require_resampled,
    resample,
    resample_blocks,
)
from codecfake_hf.data.labels import BONAFIDE_NAMES
from codecfake_hf.detection.calibration import CalibrationError, ScoreCalibration
from codecfake_hf.detection.read_ahead import DEFAULT_READ_WORKERS, read_ahead
from codecfake_hf.errors import CodecFakeError
from codecfake_hf.models.aasist.feature_extraction_aasist import (
    AudioInputError,
    check_judgeable,
    check_judgeable_summary,
)
from codecfake_hf.models.aasist.pipeline_aasist import DEFAULT_PRIOR_SPOOF, operating_point
from codecfake_hf.models.aasist.resampling import output_length

#: Windows per forward pass by default. AASIST-L holds about 150 MB of activations per 4.04 s window
#: on a CPU (4 windows: about 1 GB peak for the whole ``detect`` process, 32: 5 GB); a GPU takes more.
DEFAULT_BATCH_SIZE = {"cpu": 4, "cuda": 32}


class DetectionError(CodecFakeError, ValueError):
    """A detector option that cannot work (unknown or unavailable device, batch size below 1)."""


class BonafideLabelError(CodecFakeError, ValueError):
    """The classifier's labels do not say which class is bona fide (or the named label is not one of them)."""


def bonafide_index(id2label: dict, bonafide_label: str | None = None, model_name: str = "the model") -> int:
    """Index of the bona fide class in ``id2label`` (``{index: name}``).

    Args:
        bonafide_label: the bona fide class's name, when the labels do not say it themselves.

    Raises:
        BonafideLabelError: ``bonafide_label`` is not a label, or (without it) not exactly one label
            is a bona fide name (``LABEL_0`` / ``LABEL_1`` say nothing).
    """
    labels = {int(index): str(name) for index, name in id2label.items()}
    if bonafide_label is not None:
        matches = [index for index, name in labels.items() if name == bonafide_label]
        if not matches:
            raise BonafideLabelError(
                f"{model_name}: bona fide label {bonafide_label!r} is not one of its labels {labels}; "
                "pass one of these names"
            )
        return matches[0]
    matches = [index for index, name in labels.items() if name.lower() in BONAFIDE_NAMES]
    if len(matches) != 1:
        raise BonafideLabelError(
            f"{model_name}: its labels {labels} do not name exactly one bona fide class, so which score "
            "means bona fide is unknown; name it (`codecfake detect --bonafide-label NAME`, "
            "Detector(bonafide_label=NAME)) or set id2label in its config.json"
        )
    return matches[0]


class DetectorModeError(CodecFakeError, ValueError):
    """A scoring mode the model cannot do (``mode="full"`` needs AASIST's windowed extractor)."""


@dataclass
class Detection:
    """The result for one file; ``error`` is set (and the numbers are None) if it could not be read.

    Per window (the ``num_windows`` windows scored, in time order): ``window_starts`` (s),
    ``window_scores`` (the bona fide logit) and ``window_probabilities`` (the bona fide probability by
    the file's rule: softmax, or the calibrated posterior at ``prior_spoof``). The file's ``score`` is
    the bona fide logit of the windows' mean logits.
    """

    path: str
    score: float | None = None
    probability: float | None = None
    label: str | None = None
    num_windows: int | None = None
    error: str | None = None
    llr: float | None = None
    prior_spoof: float | None = None
    window_starts: list[float] | None = field(default=None, repr=False)
    window_scores: list[float] | None = field(default=None, repr=False)
    window_probabilities: list[float] | None = field(default=None, repr=False)

    def to_dict(self, windows: bool = False) -> dict:
        """The fields (what ``codecfake detect --json`` prints); ``llr`` and ``prior_spoof`` only for a
        calibrated detector, the per-window lists only with ``windows`` (``--windows``)."""
        result = asdict(self)
        if self.llr is None and self.prior_spoof is None:
            del result["llr"], result["prior_spoof"]
        if not windows:
            del result["window_starts"], result["window_scores"], result["window_probabilities"]
        return result


class Detector:
    """A detector ready to score audio.

    Args:
        model: a ``transformers`` audio-classification model.
        feature_extractor: its feature extractor.
        mode: AASIST window mode, ``"first"`` (official) or ``"full"`` (whole recording).
        batch_size: windows (AASIST) per forward pass; default :data:`DEFAULT_BATCH_SIZE` for the
            device. Other classifiers score one clip at a time, since zero-padding a batch would
            change their output.
        device: torch device; default CUDA when available.
        bonafide_label: name of the bona fide class, for a classifier whose labels do not say it
            (see :func:`bonafide_index`).
        prior_spoof: spoof prior of the bona fide posterior a calibrated detector reports.
        calibrated: read the calibration in the model's config (False: ignore it and report what an
            uncalibrated detector reports, as a recalibration needs).

    Raises:
        BonafideLabelError: which class is bona fide is unknown.
        CalibrationError: the config's calibration is damaged or was fitted on another label's score.
    """

    def __init__(self, model, feature_extractor, mode: str = "first", batch_size: int | None = None,
                 device: str | None = None, bonafide_label: str | None = None,
                 prior_spoof: float = DEFAULT_PRIOR_SPOOF, calibrated: bool = True) -> None:  # fmt: skip
        from codecfake_hf.models.aasist import AasistFeatureExtractor

        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.feature_extractor = feature_extractor
        self.windowed = isinstance(feature_extractor, AasistFeatureExtractor)
        if mode != "first" and not self.windowed:
            raise DetectorModeError(
                f"mode {mode!r} scores 4.04 s windows and needs an AASIST model; this model's feature "
                f"extractor is {type(feature_extractor).__name__}: use mode 'first' (--mode first)"
            )
        self.mode = mode
        self.batch_size = (
            DEFAULT_BATCH_SIZE.get(self.device.type, DEFAULT_BATCH_SIZE["cpu"])
            if batch_size is None
            else int(batch_size)
        )
        if self.batch_size < 1:
            raise DetectionError(f"batch size {batch_size}: must be at least 1 (windows per forward pass)")
        self.sampling_rate = int(feature_extractor.sampling_rate)
        name = getattr(model.config, "name_or_path", "") or type(model).__name__
        self.bonafide_index = bonafide_index(model.config.id2label, bonafide_label, name)
        self.id2label = model.config.id2label
        self.calibration = ScoreCalibration.from_config(model.config) if calibrated else None
        if (
            self.calibration is not None
            and self.calibration.bonafide_label != self.id2label[self.bonafide_index]
        ):
            raise CalibrationError(
                f"{name}: its calibration was fitted on the score of label {self.calibration.bonafide_label!r}, "
                f"not {self.id2label[self.bonafide_index]!r}: pass --bonafide-label "
                f"{self.calibration.bonafide_label} or recalibrate (`codecfake calibrate --overwrite`)"
            )
        if not 0 < prior_spoof < 1:
            raise DetectionError(f"prior_spoof={prior_spoof!r}: a prior must lie strictly between 0 and 1")
        self.prior_spoof = float(prior_spoof)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs) -> Detector:
        """Load a saved detector folder (``save_pretrained``) or Hub id with the Auto classes.

        Raises:
            SourceNotFoundError, ModelLoadError: nothing loadable there; the message names the folder
                (:func:`codecfake_hf.models.families.load_audio_classifier`).
            CheckpointMismatchError: the weights do not fit the model class; names the keys.
        """
        from codecfake_hf.models.families import load_audio_classifier

        model, feature_extractor = load_audio_classifier(name_or_path)
        return cls(model, feature_extractor, **kwargs)

    @torch.inference_mode()
    def logits(
        self, waveforms: list[np.ndarray], sampling_rate: int, names: list[str] | None = None
    ) -> tuple[torch.Tensor, list[int]]:
        """Logits ``[len(waveforms), num_labels]`` (float32, CPU) of mono arrays at ``sampling_rate`` Hz,
        and the number of windows scored per clip (in ``"full"`` mode a row is their mean)."""
        from codecfake_hf.models.aasist import aggregate_window_logits

        names = names or [f"<array {index}>" for index in range(len(waveforms))]
        resampled = []
        for waveform, name in zip(waveforms, names):
            waveform = np.asarray(waveform, dtype=np.float32)
            resampled.append(resample(waveform, sampling_rate, self.sampling_rate))
            require_resampled(
                waveform.shape[0], resampled[-1].shape[0], sampling_rate, self.sampling_rate, name
            )
        waveforms = resampled
        if not self.windowed:
            rows = [
                self.feature_extractor(w, sampling_rate=self.sampling_rate, return_tensors="pt")
                for w in waveforms
            ]
            logits = [self.model(**row.to(self.device)).logits.float().cpu() for row in rows]
            return torch.cat(logits), [1] * len(waveforms)
        try:
            inputs = self.feature_extractor(
                waveforms,
                sampling_rate=self.sampling_rate,
                mode=self.mode,
                return_tensors="pt",
                source_names=names,
            )
        except AudioInputError as error:
            raise AudioError(str(error)) from None
        chunks = inputs["input_values"].split(self.batch_size)
        logits = torch.cat([self.model(input_values=c.to(self.device)).logits.float().cpu() for c in chunks])
        counts = inputs["num_windows"].tolist() if "num_windows" in inputs else [1] * len(waveforms)
        return aggregate_window_logits(logits, counts), counts

    def score(self, waveforms: list[np.ndarray], sampling_rate: int) -> np.ndarray:
        """Bona fide scores ``[len(waveforms)]`` (float32; higher = more bona fide)."""
        return self.logits(waveforms, sampling_rate)[0][:, self.bonafide_index].numpy()

    __call__ = score  # a Detector is a ``score_fn(waveforms, sampling_rate)``

    def detect_files(
        self, paths: Iterable[str | os.PathLike], workers: int = DEFAULT_READ_WORKERS
    ) -> list[Detection]:
        """Score every file, in order; an unreadable, silent or too short one gets a :class:`Detection`
        with ``error`` instead of raising. Windows of several files share forward passes
        (:meth:`score_sources`)."""
        return [self._detection(scored) for scored in self.score_sources(paths, workers=workers)]

    def score_sources(
        self,
        sources: Iterable[str | os.PathLike | Mapping],
        names: Iterable[str] | None = None,
        judge: bool = True,
        workers: int = DEFAULT_READ_WORKERS,
        progress: bool = True,
    ) -> Iterator[ScoredSource]:
        """The window logits of every source, in the order of ``sources``.

        Args:
            sources: audio files, or ``Audio(decode=False)`` values (``{"bytes", "path"}``) of a dataset.
            names: how to name each source in results and errors (default: its path).
            judge: refuse silent and too short audio (:func:`check_judgeable_summary`), as a verdict
                does; ``False`` scores every clip, as the official evaluation protocol does.
            workers: threads that read ahead (:func:`codecfake_hf.detection.read_ahead.read_ahead`).
            progress: a progress bar of files (on a terminal); off for a caller that draws its own.

        AASIST sources are streamed: ``workers`` threads read blocks, resample them as they arrive
        and cut the windows of ``self.mode`` (:func:`stream_windows`), while this thread scores
        ``batch_size`` windows per forward pass, the windows of the sources in their order (so the same
        sources give the same batches, and bit for bit the same scores, on every run). The readers run
        at most ``batch_size + workers`` sources ahead, with at most 2 windows of each waiting, so memory
        depends on the batch size, not on the number or length of the sources. A source's logits are
        the mean of its windows', as in :meth:`logits`; the batch a window shares changes them only by
        float rounding. Other
        classifiers score one clip per forward pass (zero-padding a batch would change their output);
        their files are read whole, ahead, by the workers. A source that cannot be read (or judged)
        gets its error; the others are still scored.
        """
        names = None if names is None else iter(names)
        named = ((source, _source_name(source) if names is None else next(names)) for source in sources)
        total = len(sources) if hasattr(sources, "__len__") else None
        read = self._read_windows if self.windowed else self._read_clip
        window_logits: dict[int, list[torch.Tensor]] = {}
        windows: dict[int, int] = {}  # windows read per source
        ended: dict[int, tuple[str, int | None, Exception | None]] = {}  # name, samples, error
        batch: list[tuple[int, np.ndarray]] = []
        emitted = 0

        def score(batch: list[tuple[int, np.ndarray]]) -> None:
            logits = self._window_logits([window for _, window in batch])
            for (index, _), row in zip(batch, logits):
                if index >= emitted:  # not a source reported already (one that failed after some windows)
                    window_logits.setdefault(index, []).append(row)

        def ready() -> Iterator[ScoredSource]:
            nonlocal emitted
            while emitted in ended:
                name, samples, error = ended[emitted]
                scored = len(window_logits.get(emitted, ()))
                if error is None and scored < windows.get(emitted, 0):
                    return  # windows of this source still wait in the batch
                rows = window_logits.pop(emitted, [])
                del ended[emitted]
                emitted += 1
                bar.update()
                yield ScoredSource(name, None if error else torch.stack(rows), samples, error)

        with tqdm(
            total=total, desc="scoring", unit="file", leave=False, disable=None if progress else True
        ) as bar:
            for event in read_ahead(
                named,
                lambda source, emit: read(source, emit, judge),
                (AudioError, AudioInputError),
                workers,
                max_buffered=2 if self.windowed else 1,
                lookahead=self.batch_size + workers if self.windowed else workers,
            ):
                if event.kind == "item":
                    windows[event.index] = windows.get(event.index, 0) + 1
                    batch.append((event.index, event.value))
                    if len(batch) == self.batch_size or not self.windowed:
                        score(batch)
                        batch = []
                elif event.kind == "end":
                    ended[event.index] = (event.source[1], event.value, None)
                else:  # an error: the source's windows already read are scored and dropped
                    ended[event.index] = (event.source[1], None, event.value)
                yield from ready()
            if batch:
                score(batch)
            yield from ready()

    def file_logits(self, path: str | os.PathLike) -> tuple[torch.Tensor, int]:
        """Logits ``[num_labels]`` (float32, CPU) of one file and the number of windows scored, by
        :meth:`score_sources`.

        Raises:
            AudioError: the file cannot be read; AudioInputError: it is silent or too short to judge.
        """
        (scored,) = self.score_sources([path])
        if scored.error is not None:
            raise scored.error
        return scored.logits, scored.window_logits.shape[0]

    def _read_windows(self, source: tuple, emit: Callable, judge: bool) -> int:
        """Read one ``(source, name)`` in a worker thread: emit its windows at the model's rate
        (``self.mode``), read the rest of it after ``"first"`` mode's window, check it; return its
        length (samples at the model's rate)."""
        source, name = source
        summary = {"samples": 0, "peak": 0.0}
        blocks, rate = _audio_blocks(source, name)
        blocks = _summarised(blocks, summary)
        samples = resample_blocks(blocks, rate, self.sampling_rate, name)
        for window in stream_windows(samples, self.feature_extractor.num_samples, self.mode):
            emit(window)
        for _ in blocks:  # the rest of the file, after "first" mode's window: read and checked
            pass
        if judge:
            check_judgeable_summary(summary["samples"], summary["peak"], rate, name)
        return output_length(summary["samples"], rate, self.sampling_rate)

    def _read_clip(self, source: tuple, emit: Callable, judge: bool) -> int:
        """Read one whole ``(source, name)`` in a worker thread for a classifier that is not windowed:
        emit it resampled to the model's rate; return its length there."""
        source, name = source
        blocks, rate = _audio_blocks(source, name)
        waveform = np.concatenate(list(blocks))
        if judge:
            check_judgeable(waveform, rate, name)
        resampled = resample(waveform, rate, self.sampling_rate)
        require_resampled(waveform.shape[0], resampled.shape[0], rate, self.sampling_rate, name)
        emit(resampled)
        return resampled.shape[0]

    def _detection(self, scored: ScoredSource) -> Detection:
        """The verdict on one source's window logits: on their mean, the softmax and arg-max, or for a
        calibrated detector the LLR, the posterior at ``prior_spoof`` and the operating point's label;
        the same per window, with the windows' start times."""
        if scored.error is not None:
            return Detection(path=scored.name, error=str(scored.error))
        count, logits = scored.window_logits.shape[0], scored.logits
        score = float(logits[self.bonafide_index])
        window_scores = scored.window_logits[:, self.bonafide_index].tolist()
        starts = self._window_starts(scored.num_samples, count)
        if self.calibration is None:
            probability = float(torch.softmax(logits, dim=-1)[self.bonafide_index])
            window_probabilities = torch.softmax(scored.window_logits, dim=-1)[:, self.bonafide_index]
            return Detection(
                scored.name, score, probability, self.id2label[int(logits.argmax())], count,
                window_starts=starts, window_scores=window_scores,
                window_probabilities=window_probabilities.tolist(),
            )  # fmt: skip
        llr, posterior, is_bonafide = self.calibration.verdict(score, self.prior_spoof)
        (spoof_index,) = [int(index) for index in self.id2label if int(index) != self.bonafide_index]
        label = self.id2label[self.bonafide_index if is_bonafide else spoof_index]
        return Detection(
            scored.name, score, posterior, label, count, llr=llr, prior_spoof=self.prior_spoof,
            window_starts=starts, window_scores=window_scores,
            window_probabilities=[self.calibration.verdict(s, self.prior_spoof)[1] for s in window_scores],
        )  # fmt: skip

    def at_prior(self, detection: Detection, prior_spoof: float) -> Detection:
        """``detection`` with its bona fide posteriors (file and windows) at another spoof prior, as a
        detector made with ``prior_spoof`` reports them; the label (the operating point's) and the LLR
        do not depend on the prior. Uncalibrated detections are returned as they are."""
        if self.calibration is None or detection.error is not None:
            return detection
        if not 0 < prior_spoof < 1:
            raise DetectionError(f"prior_spoof={prior_spoof!r}: a prior must lie strictly between 0 and 1")
        return replace(
            detection,
            probability=self.calibration.verdict(detection.score, prior_spoof)[1],
            prior_spoof=float(prior_spoof),
            window_probabilities=[
                self.calibration.verdict(score, prior_spoof)[1] for score in detection.window_scores
            ],
        )

    def operating_point(self, prior_spoof: float | None = None) -> float | None:
        """The bona fide probability at which the verdict changes (at ``prior_spoof``, default the
        detector's): the stored operating point for a calibrated detector, 1/2 (the arg-max) for an
        uncalibrated one with two labels, None otherwise (:func:`pipeline_aasist.operating_point`)."""
        if self.calibration is None and len(self.id2label) != 2:
            return None
        calibration = None if self.calibration is None else self.calibration.to_dict()
        return operating_point(calibration, self.prior_spoof if prior_spoof is None else prior_spoof)

    def _window_starts(self, num_samples: int, count: int) -> list[float]:
        """Start times (s) of the ``count`` windows scored of ``num_samples`` samples at the model's rate."""
        if not self.windowed:
            return [0.0]
        from codecfake_hf.models.aasist.feature_extraction_aasist import window_starts

        starts = window_starts(num_samples, self.feature_extractor.num_samples, self.mode)
        assert len(starts) == count, (starts, count)
        return [start / self.sampling_rate for start in starts]

    @torch.inference_mode()
    def _window_logits(self, windows: list[np.ndarray]) -> torch.Tensor:
        """Logits ``[len(windows), num_labels]`` (float32, CPU) of windows at the model's rate; a window
        shorter than the model's (the whole of a short file) is repeat-padded by the feature extractor.
        For a classifier that is not windowed, one clip."""
        if not self.windowed:
            (clip,) = windows
            inputs = self.feature_extractor(clip, sampling_rate=self.sampling_rate, return_tensors="pt")
            return self.model(**inputs.to(self.device)).logits.float().cpu()
        inputs = self.feature_extractor(
            windows, sampling_rate=self.sampling_rate, mode="first", return_tensors="pt"
        )
        return self.model(input_values=inputs["input_values"].to(self.device)).logits.float().cpu()


class ScoredSource(NamedTuple):
    """One source scored by :meth:`Detector.score_sources`: its name, the logits of its windows
    ``[num_windows, num_labels]`` (float32; one row for a classifier that is not windowed), its length
    in samples at the model's rate, or (numbers None) the error that stopped it."""

    name: str
    window_logits: torch.Tensor | None
    num_samples: int | None
    error: Exception | None

    @property
    def logits(self) -> torch.Tensor:
        """The source's logits ``[num_labels]``: the mean of its window logits."""
        from codecfake_hf.models.aasist import aggregate_window_logits

        return aggregate_window_logits(self.window_logits, [self.window_logits.shape[0]])[0]


def _source_name(source) -> str:
    """How a source is named: its path (a dataset's audio value: its path, else ``<embedded audio>``)."""
    if isinstance(source, Mapping):
        return str(source.get("path") or "<embedded audio>")
    return str(source)


def _audio_blocks(source, name: str) -> tuple[Iterator[np.ndarray], int]:
    """Mono float32 blocks of a file (streamed, :class:`AudioFile`) or of a dataset's audio value
    (``{"bytes", "path"}``: bytes decoded whole by :func:`read_audio_value`, a path streamed) and the
    rate (Hz)."""
    if isinstance(source, Mapping):
        if source.get("bytes") or not source.get("path"):
            waveform, rate = read_audio_value(source, name)
            return iter([waveform]), rate
        source = source["path"]
    audio = AudioFile(source)
    return audio.blocks(), audio.sampling_rate


def _summarised(blocks: Iterable[np.ndarray], summary: dict) -> Iterator[np.ndarray]:
    """``blocks`` unchanged, counting their samples and peak ``max |x|`` into ``summary``."""
    for block in blocks:
        summary["samples"] += block.shape[0]
        if block.size:
            summary["peak"] = max(summary["peak"], float(np.abs(block).max()))
        yield block


def resolve_device(device: str | None) -> torch.device:
    """``device`` as a ``torch.device`` (default: CUDA when available, else CPU).

    Raises:
        DetectionError: an unknown device name, or CUDA asked for where there is none.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise DetectionError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise DetectionError(
            f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s) visible to torch "
            f"{torch.__version__}; use --device cpu"
        )
    return resolved


def stream_windows(samples: Iterable[np.ndarray], length: int, mode: str) -> Iterator[np.ndarray]:
    """The windows of ``length`` samples that the AASIST feature extractor cuts in ``mode`` (``"first"`` or
    ``"full"``, see ``window_starts``), from audio that arrives in blocks of any size.

    ``"first"``: the first ``length`` samples. ``"full"``: consecutive non-overlapping windows, the last one
    aligned to the end of the audio. Audio not longer than ``length`` gives itself, unpadded (the feature
    extractor repeat-pads it). At most two windows and one block are held, whatever the audio's length.
    """
    if mode not in ("first", "full"):
        raise ValueError(f"unknown window mode {mode!r}; choose first or full")
    buffer, previous = np.zeros(0, np.float32), None
    for block in samples:
        buffer = np.concatenate([buffer, block])
        if mode == "first" and buffer.shape[0] >= length:
            yield buffer[:length]
            return
        while buffer.shape[0] > length:  # a sample follows this window, so it is not the last one
            previous, buffer = buffer[:length], buffer[length:]
            yield previous
    if previous is None or buffer.shape[0] == length:
        yield buffer
    else:  # the last window ends with the audio and overlaps the one before
        yield np.concatenate([previous[buffer.shape[0] :], buffer])
