"""Scoring audio with a saved detector: the one place that turns waveforms or files into scores.

A :class:`Detector` wraps any ``transformers`` audio-classification model and its feature extractor
(AASIST converted by ``codecfake convert-aasist`` or trained by ``train.py``, or another classifier
with a bona fide label). The score is the bona fide logit (AASIST: ``logits[:, 1]``, higher = more
bona fide, the value used for EER); the probability is its softmax probability; the label is the
arg-max class. Audio of any rate is resampled with :func:`codecfake_hf.audio.resample`. For AASIST,
``mode="first"`` scores the official first 64,600 samples and ``mode="full"`` averages the logits of
windows covering the whole recording.

Files are streamed (:meth:`Detector.detect_files`): read in blocks, resampled in a streaming form of the
same resampler, cut into windows as they arrive and scored ``batch_size`` windows at a time, so memory
does not grow with the recording (``benchmarks/bench_detect_memory.py``).

It is used by ``codecfake detect``, by evaluation (:mod:`codecfake_hf.evaluation`) and, as a
``score_fn(waveforms, sampling_rate)``, by the robustness report (:mod:`codecfake_hf.robustness`).

Which logit is bona fide is never guessed: the model's ``id2label`` must name exactly one class
with a bona fide name (``codecfake_hf.labels.BONAFIDE_NAMES``: "bonafide", "genuine", "real", ...), or
the caller names it (``bonafide_label=``, ``codecfake detect --bonafide-label``); a classifier with
``LABEL_0`` / ``LABEL_1`` is refused. A verdict on a file (:meth:`Detector.detect_files`) is refused
for silent audio and audio shorter than 0.5 s (``feature_extraction_aasist.check_judgeable``);
scores for EER (:meth:`Detector.score`) follow the official protocol and score every clip.

A detector whose config holds a calibration (:mod:`codecfake_hf.calibration`, ``codecfake calibrate``)
reports more per file: ``llr`` (the calibrated natural-log likelihood ratio), ``probability`` becomes the
bona fide posterior at ``prior_spoof`` and ``label`` the verdict of the stored operating point. The score
(and every EER) stays the raw bona fide logit. Without a calibration the results are as before.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from codecfake_hf.audio import (
    AudioError,
    AudioFile,
    load_audio,
    require_resampled,
    resample,
    resample_blocks,
)
from codecfake_hf.calibration import CalibrationError, ScoreCalibration
from codecfake_hf.errors import CodecFakeError
from codecfake_hf.labels import BONAFIDE_NAMES
from codecfake_hf.models.aasist.feature_extraction_aasist import (
    AudioInputError,
    check_judgeable,
    check_judgeable_summary,
)
from codecfake_hf.models.aasist.pipeline_aasist import DEFAULT_PRIOR_SPOOF

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
    """The result for one file; ``error`` is set (and the numbers are None) if it could not be read."""

    path: str
    score: float | None = None
    probability: float | None = None
    label: str | None = None
    num_windows: int | None = None
    error: str | None = None
    llr: float | None = None
    prior_spoof: float | None = None

    def to_dict(self) -> dict:
        """The fields; ``llr`` and ``prior_spoof`` only for a calibrated detector."""
        result = asdict(self)
        if self.llr is None and self.prior_spoof is None:
            del result["llr"], result["prior_spoof"]
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
                (:func:`codecfake_hf.sources.load_audio_classifier`).
            CheckpointMismatchError: the weights do not fit the model class; names the keys.
        """
        from codecfake_hf.sources import load_audio_classifier

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

    def detect_files(self, paths: list[str | os.PathLike]) -> list[Detection]:
        """Score every file; an unreadable, silent or too short one gets a :class:`Detection` with
        ``error`` instead of raising."""
        results = []
        for path in paths:
            try:
                logits, windows = self.file_logits(path)
            except (AudioError, AudioInputError) as error:
                results.append(Detection(path=str(path), error=str(error)))
                continue
            results.append(self._detection(str(path), logits, windows))
        return results

    def _detection(self, path: str, logits: torch.Tensor, windows: int) -> Detection:
        """The verdict on one file's logits ``[num_labels]``: the softmax and arg-max, or for a calibrated
        detector the LLR, the posterior at ``prior_spoof`` and the operating point's label."""
        score = float(logits[self.bonafide_index])
        if self.calibration is None:
            probability = float(torch.softmax(logits, dim=-1)[self.bonafide_index])
            return Detection(path, score, probability, self.id2label[int(logits.argmax())], windows)
        llr, posterior, is_bonafide = self.calibration.verdict(score, self.prior_spoof)
        (spoof_index,) = [int(index) for index in self.id2label if int(index) != self.bonafide_index]
        label = self.id2label[self.bonafide_index if is_bonafide else spoof_index]
        return Detection(path, score, posterior, label, windows, llr=llr, prior_spoof=self.prior_spoof)

    def file_logits(self, path: str | os.PathLike) -> tuple[torch.Tensor, int]:
        """Logits ``[num_labels]`` (float32, CPU) of one file and the number of windows scored.

        Raises:
            AudioError: the file cannot be read; AudioInputError: it is silent or too short to judge
                (checked once it is read, :func:`check_judgeable_summary`).

        AASIST files are streamed: blocks are resampled as they are read, cut into the windows of
        ``self.mode`` (:func:`stream_windows`) and scored ``batch_size`` at a time, so memory does
        not depend on the file's length; the logits equal :meth:`logits` of the whole file. In
        ``"first"`` mode the rest of the file is still read, and checked, after the first window.
        """
        from codecfake_hf.models.aasist import aggregate_window_logits

        if not self.windowed:
            waveform, rate = load_audio(path)
            check_judgeable(waveform, rate, str(path))
            logits, (windows,) = self.logits([waveform], rate, names=[str(path)])
            return logits[0], windows
        audio = AudioFile(path)
        summary = {"samples": 0, "peak": 0.0}
        blocks = _summarised(audio.blocks(), summary)
        samples = resample_blocks(blocks, audio.sampling_rate, self.sampling_rate, path)
        windows = stream_windows(samples, self.feature_extractor.num_samples, self.mode)
        window_logits = []
        with tqdm(desc=Path(path).name, unit="window", leave=False, disable=None) as bar:
            for batch in _batches(windows, self.batch_size):
                window_logits.append(self._window_logits(batch, str(path)))
                bar.update(len(batch))
        for _ in blocks:  # the rest of the file, after "first" mode's window: read and checked
            pass
        check_judgeable_summary(summary["samples"], summary["peak"], audio.sampling_rate, str(path))
        logits = torch.cat(window_logits)
        return aggregate_window_logits(logits, [logits.shape[0]])[0], logits.shape[0]

    @torch.inference_mode()
    def _window_logits(self, windows: list[np.ndarray], name: str) -> torch.Tensor:
        """Logits ``[len(windows), num_labels]`` of windows at the model's rate; a window shorter than
        the model's (the whole of a short file) is repeat-padded by the feature extractor."""
        inputs = self.feature_extractor(
            windows,
            sampling_rate=self.sampling_rate,
            mode="first",
            return_tensors="pt",
            source_names=[name] * len(windows),
        )
        return self.model(input_values=inputs["input_values"].to(self.device)).logits.float().cpu()


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


def _batches(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
