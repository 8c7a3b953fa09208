"""Spoof detection on audio files with a saved AASIST model (the library side of ``codecfake detect``).

Each file is read with :func:`codecfake_hf.audio.load_audio` (any format libsndfile reads, any
sample rate, multi-channel down-mixed), resampled to 16 kHz, windowed by the feature extractor and
scored. The score is the bona fide logit (``logits[:, 1]``, higher = more bona fide, the value used
for EER); the probability is the softmax bona fide probability; the label is the arg-max class.
In ``"full"`` mode a file's logits are the mean over its 64,600-sample windows.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from codecfake_hf.audio import AudioError, load_audio
from codecfake_hf.models.aasist import (
    AasistFeatureExtractor,
    AasistForAudioClassification,
    aggregate_window_logits,
)


@dataclass
class Detection:
    """The result for one file; ``error`` is set (and the numbers are None) if it could not be read."""

    path: str
    score: float | None = None
    probability: float | None = None
    label: str | None = None
    num_windows: int | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def load_detector(
    model_dir: str | os.PathLike,
) -> tuple[AasistForAudioClassification, AasistFeatureExtractor]:
    """Load a saved AASIST folder (``save_pretrained`` / ``codecfake convert-aasist`` output) in eval mode."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{model_dir}: not a saved model folder (no config.json); run convert-aasist first"
        )
    model = AasistForAudioClassification.from_pretrained(model_dir).eval()
    extractor = AasistFeatureExtractor.from_pretrained(model_dir)
    return model, extractor


@torch.no_grad()
def detect_files(
    paths: list[str | os.PathLike],
    model: AasistForAudioClassification,
    feature_extractor: AasistFeatureExtractor,
    mode: str = "first",
    batch_size: int = 16,
) -> list[Detection]:
    """Score every file; unreadable files get a :class:`Detection` with ``error`` instead of raising.

    Args:
        paths: audio files.
        mode: ``"first"`` (official: first 64,600 samples, repeat-padded) or ``"full"`` (mean of the
            logits over windows covering the whole file).
        batch_size: windows per forward pass.

    Returns:
        One :class:`Detection` per path, in order.
    """
    labels = model.config.id2label
    results = []
    for path in paths:
        try:
            waveform, rate = load_audio(path)
            inputs = feature_extractor(
                [waveform], sampling_rate=rate, mode=mode, return_tensors="pt", source_names=[str(path)]
            )
        except AudioError as error:
            results.append(Detection(path=str(path), error=str(error)))
            continue
        windows = inputs["input_values"]
        logits = torch.cat([model(batch).logits for batch in windows.split(batch_size)])
        logits = aggregate_window_logits(logits, [len(windows)])[0]
        results.append(
            Detection(
                path=str(path),
                score=float(logits[1]),
                probability=float(torch.softmax(logits, dim=-1)[1]),
                label=labels[int(logits.argmax())],
                num_windows=len(windows),
            )
        )
    return results
