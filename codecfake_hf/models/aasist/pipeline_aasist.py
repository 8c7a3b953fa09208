"""The audio-classification pipeline that a saved AASIST folder names in ``config.custom_pipelines``.

``pipeline("audio-classification", model=folder, trust_remote_code=True)`` loads this class from
the folder. transformers' own ``AudioClassificationPipeline`` reads files with the ffmpeg binary and
needs torchaudio to resample ``{"raw": array, "sampling_rate": rate}`` input of another rate; this
subclass reads files (and bytes) with soundfile, down-mixes, and hands every clip *with its rate* to
the feature extractor, which resamples with the project's one resampler: the same path as
``codecfake detect``. Before scoring it refuses audio on which a verdict would mean nothing
(:func:`feature_extraction_aasist.check_judgeable`: silent, or shorter than 0.5 s).

A folder whose ``config.json`` holds a ``calibration`` (``codecfake calibrate``, or training's end)
reports calibrated values instead of the softmax: each label's ``score`` is its posterior at a spoof
prior (``prior_spoof=``, default :data:`DEFAULT_PRIOR_SPOOF`), ``llr`` its natural-log likelihood
ratio against the other label, and the label decided by the stored operating point comes first
(:func:`calibrated_verdict`, which ``codecfake detect`` uses too). Other folders: the softmax, as before.
``mode="full"`` scores every window of the recording and ``window_scores=True`` returns them, so a
page built on this pipeline alone (the Space of ``codecfake space``) shows what ``codecfake detect
--mode full`` and ``codecfake app`` show.

This file travels with every saved detector: it imports numpy, transformers and its siblings;
soundfile only when a file or bytes are given, huggingface_hub (its public ``get_session``, which
honours ``HF_HUB_OFFLINE`` and the proxy settings) only when a URL is.
"""

from __future__ import annotations

import io
import math
import os
import sys

import numpy as np
import torch
from transformers.pipelines.audio_classification import AudioClassificationPipeline

from .feature_extraction_aasist import AudioInputError, as_mono, check_judgeable, window_starts
from .resampling import output_length

#: What ``AasistForAudioClassification.save_pretrained`` writes into ``config.custom_pipelines``.
CUSTOM_PIPELINES = {
    "audio-classification": {
        "impl": "pipeline_aasist.AasistAudioClassificationPipeline",
        "pt": ["AutoModelForAudioClassification"],
        "type": "audio",
    }
}


#: Spoof prior of the reported bona fide posterior when none is given: 1/2, so the posterior is the
#: logistic of the LLR and assumes no base rate (ASVspoof 5 costs a decision at ``p_spoof=0.05``).
DEFAULT_PRIOR_SPOOF = 0.5


def calibrated_verdict(
    bonafide_score: float, calibration: dict, prior_spoof: float = DEFAULT_PRIOR_SPOOF
) -> tuple[float, float, bool]:
    """What a calibrated detector says about one clip.

    Args:
        bonafide_score: the raw score, the bona fide logit (``logits[bona fide index]``).
        calibration: the ``config.calibration`` dict: ``scale`` a and ``offset`` b of the
            log-likelihood ratio ``a * score + b`` and ``threshold``, the operating point on that LLR.
        prior_spoof: prior probability of a spoof, strictly between 0 and 1.

    Returns:
        ``(llr, p_bonafide, is_bonafide)``: the natural-log LLR ln p(x | bona fide) / p(x | spoof), the
        bona fide posterior at ``prior_spoof`` (the logistic of ``llr + ln((1 - p) / p)``), and whether
        ``llr`` lies above the stored threshold (the EER threshold rejects the scores at or below it).
    """
    if not 0 < prior_spoof < 1:
        raise ValueError(f"prior_spoof={prior_spoof!r}: a prior must lie strictly between 0 and 1")
    llr = calibration["scale"] * float(bonafide_score) + calibration["offset"]
    log_odds = llr + math.log((1 - prior_spoof) / prior_spoof)
    if log_odds >= 0:  # the logistic in the form that cannot overflow
        posterior = 1 / (1 + math.exp(-log_odds))
    else:
        posterior = math.exp(log_odds) / (1 + math.exp(log_odds))
    return llr, posterior, llr > calibration["threshold"]


def operating_point(calibration: dict | None, prior_spoof: float = DEFAULT_PRIOR_SPOOF) -> float:
    """The bona fide probability at which a two-label detector's verdict changes, at ``prior_spoof``.

    Calibrated (``calibration``: the ``config.calibration`` dict): the posterior of the stored
    operating point, the logistic of ``threshold + ln((1 - p) / p)`` (:func:`calibrated_verdict` of the
    raw score that lies on the threshold); above it the verdict is bona fide. Uncalibrated (None): 1/2,
    where the arg-max of two softmax probabilities changes.
    """
    if not calibration:
        return 0.5
    on_threshold = (calibration["threshold"] - calibration["offset"]) / calibration["scale"]
    return calibrated_verdict(on_threshold, calibration, prior_spoof)[1]


def read_audio(source: str | bytes) -> tuple[np.ndarray, int]:
    """Decode a file path or in-memory file with soundfile: ``(mono float32 [T], rate_hz)``;
    channels (soundfile's ``[T, C]``) are averaged.

    Raises:
        ImportError: soundfile is not installed.
        AudioInputError: the file is missing or libsndfile cannot decode it.
    """
    try:
        import soundfile
    except ImportError:
        raise ImportError(
            "reading audio files needs soundfile (`pip install soundfile`); or pass "
            '{"raw": array, "sampling_rate": rate}'
        ) from None
    name = source if isinstance(source, str) else "<bytes>"
    if isinstance(source, str) and not os.path.isfile(source):
        raise AudioInputError(f"{source}: no such audio file; check the path")
    try:
        waveform, rate = soundfile.read(
            source if isinstance(source, str) else io.BytesIO(source), dtype="float32", always_2d=True
        )
    except Exception as error:  # libsndfile raises several types for corrupt or unknown files
        raise AudioInputError(
            f"{name}: cannot decode audio ({error}); pass a file libsndfile reads"
        ) from None
    return waveform.mean(axis=1), int(rate)


class _Logits:
    """The ``.logits`` that transformers' ``postprocess`` reads."""

    def __init__(self, logits):
        self.logits = logits


class AasistAudioClassificationPipeline(AudioClassificationPipeline):
    """``AudioClassificationPipeline`` for AASIST detectors, without ffmpeg or torchaudio.

    Inputs: a file path or URL, the bytes of a file, a ``[T]`` array or tensor at the model's rate
    (16 kHz; transformers' convention), ``{"raw" or "array": [T] or [C, T] / [T, C], "sampling_rate":
    Hz}`` at any rate, or a torchcodec ``AudioDecoder`` (what ``datasets`` returns). Output: the
    labels with softmax probabilities, as transformers' pipeline returns them; for a calibrated folder
    each label's posterior at ``prior_spoof`` (a call or pipeline argument) and ``llr``, the decided
    label first (module docstring).

    Call (or pipeline) arguments beside transformers' ``top_k``: ``mode`` ("first", the official first
    4.04 s, or "full": the mean logits of windows covering the whole recording, as ``codecfake detect
    --mode full``), ``window_batch_size`` (windows per forward pass; default 4 on a CPU, 32 on a GPU),
    ``window_scores=True`` (each label also gets ``window_scores``, its score in each window, and
    ``window_starts`` in seconds: a timeline), ``prior_spoof`` (calibrated folders).

    Raises:
        AudioInputError (a ValueError): unreadable, empty, non-finite, silent or too short audio.
    """

    def _sanitize_parameters(
        self, prior_spoof=None, mode=None, window_batch_size=None, window_scores=None, **kwargs
    ):
        preprocess, forward, postprocess = super()._sanitize_parameters(**kwargs)
        if prior_spoof is not None:
            postprocess["prior_spoof"] = float(prior_spoof)
        if mode is not None:
            preprocess["mode"] = mode
        if window_batch_size is not None:
            forward["window_batch_size"] = int(window_batch_size)
        if window_scores is not None:
            postprocess["window_scores"] = bool(window_scores)
        return preprocess, forward, postprocess

    def _forward(self, model_inputs, window_batch_size=None):
        """The model on the windows of one recording, ``window_batch_size`` windows per forward pass
        (default 4 on a CPU, 32 on a GPU, as ``codecfake detect``): ``{"logits": [windows, labels],
        "window_starts": [windows] (samples at the model's rate)}``."""
        starts = model_inputs.pop("window_starts")
        model_inputs.pop("num_windows", None)
        size = window_batch_size or (32 if self.device.type == "cuda" else 4)
        chunks = model_inputs["input_values"].split(size)
        logits = torch.cat([self.model(input_values=chunk).logits for chunk in chunks])
        return {"logits": logits, "window_starts": starts}

    def postprocess(
        self,
        model_outputs,
        top_k=5,
        function_to_apply=None,
        prior_spoof=DEFAULT_PRIOR_SPOOF,
        window_scores=False,
    ):
        """The verdict on the mean of the windows' logits (``mode="first"``: the one window): the softmax
        labels (transformers' output) or, for a calibrated folder, the labels with their posteriors at
        ``prior_spoof`` and LLRs, the one the stored operating point decides first. With
        ``window_scores``, each label also gets ``window_scores`` (its score in each window, by the same
        rule) and ``window_starts`` (s)."""
        window_logits = model_outputs["logits"].float()
        verdicts = self._verdicts(
            window_logits.mean(dim=0, keepdim=True), top_k, function_to_apply, prior_spoof
        )
        if window_scores:
            every_label = self.model.config.num_labels
            windows = [
                {
                    entry["label"]: entry["score"]
                    for entry in self._verdicts(row[None], every_label, function_to_apply, prior_spoof)
                }
                for row in window_logits
            ]
            starts = (model_outputs["window_starts"].double() / self.feature_extractor.sampling_rate).tolist()
            for entry in verdicts:
                entry["window_scores"] = [window[entry["label"]] for window in windows]
                entry["window_starts"] = starts
        return verdicts

    def _verdicts(self, logits, top_k, function_to_apply, prior_spoof):
        """The labels of one clip's logits ``[1, labels]`` (:meth:`postprocess`)."""
        calibration = getattr(self.model.config, "calibration", None)
        if not calibration:
            return super().postprocess(_Logits(logits), top_k=top_k, function_to_apply=function_to_apply)
        id2label = self.model.config.id2label
        bonafide = self.model.config.label2id[calibration["bonafide_label"]]
        (spoof,) = [int(index) for index in id2label if int(index) != bonafide]
        llr, posterior, is_bonafide = calibrated_verdict(float(logits[0, bonafide]), calibration, prior_spoof)
        verdicts = [
            {"label": id2label[bonafide], "score": posterior, "llr": llr},
            {"label": id2label[spoof], "score": 1 - posterior, "llr": -llr},
        ]
        return (verdicts if is_bonafide else verdicts[::-1])[:top_k]

    def operating_point(self, prior_spoof=DEFAULT_PRIOR_SPOOF) -> float:
        """The bona fide probability at which this detector's verdict changes (:func:`operating_point`)."""
        return operating_point(getattr(self.model.config, "calibration", None), prior_spoof)

    def preprocess(self, inputs, mode=None):
        name, rate = "<array>", self.feature_extractor.sampling_rate
        if isinstance(inputs, str) and inputs.startswith(("http://", "https://")):
            from huggingface_hub import get_session  # public: the HTTP client transformers downloads with

            response = get_session().get(inputs, follow_redirects=True)
            response.raise_for_status()  # an error page is no audio
            name, inputs = inputs, response.content
        if isinstance(inputs, (str, bytes)):
            name = inputs if isinstance(inputs, str) else name
            waveform, rate = read_audio(inputs)
        elif isinstance(inputs, dict):
            waveform = inputs.get("raw", inputs.get("array"))
            if waveform is None or "sampling_rate" not in inputs:
                raise ValueError(
                    'a dict input needs "raw" (or "array") holding the waveform and "sampling_rate" in Hz, '
                    f"got keys {sorted(inputs)}"
                )
            name, rate = inputs.get("path") or name, int(inputs["sampling_rate"])
        elif (torchcodec := sys.modules.get("torchcodec")) and isinstance(
            inputs, torchcodec.decoders.AudioDecoder
        ):
            samples = inputs.get_all_samples()
            waveform, rate = samples.data, int(samples.sample_rate)  # [C, T]
        else:
            waveform = inputs
        waveform = as_mono(waveform, name)
        check_judgeable(waveform, rate, name)
        if mode is None:  # the extractor's own deterministic mode (a verdict never takes a random window)
            mode = self.feature_extractor.mode if self.feature_extractor.mode == "full" else "first"
        if mode not in ("first", "full"):
            raise ValueError(
                f"mode={mode!r}: a verdict scores the first window or the full recording; pass first or full"
            )
        processed = self.feature_extractor(
            waveform, sampling_rate=rate, return_tensors="pt", source_names=[name], mode=mode
        )
        length = output_length(waveform.shape[0], rate, self.feature_extractor.sampling_rate)
        starts = window_starts(length, self.feature_extractor.num_samples, mode)
        processed["window_starts"] = torch.tensor(starts, dtype=torch.int64)
        if self.dtype is not None:
            processed = processed.to(dtype=self.dtype)
        return processed
