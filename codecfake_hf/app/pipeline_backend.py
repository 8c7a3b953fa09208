"""A backend of the detection page (``page.py``) over a saved detector's own audio-classification
pipeline: what a Space runs where this package is not installed.

The pipeline comes from the model repository (``pipeline("audio-classification", model=HUB_ID,
trust_remote_code=True)``, the folder's ``pipeline_aasist.py``): it reads the file with soundfile,
resamples with the folder's resampler, scores the windows of ``mode`` and, with ``window_scores=True``,
returns every window's score, so the numbers equal ``codecfake detect --json``'s for the same file. The
scores are kept (``preprocess`` and ``forward`` once per file), and a new spoof prior only reruns the
pipeline's ``postprocess``. Like ``page.py``, this file imports neither ``codecfake_hf`` nor anything
outside the standard library: it works on the pipeline object it is given.

Compared with ``codecfake app``, a Space reads only what libsndfile reads (wav, flac, ogg, mp3, ...; not
m4a), decodes a file whole instead of streaming it, and offers no compression conditions (they need the
ffmpeg program and this package's codec chain).
"""

from __future__ import annotations

import json


class PipelineBackend:
    """The page's backend (``page.py``'s module docstring) over an AASIST audio-classification pipeline.

    Args:
        classifier: ``pipeline("audio-classification", model=..., trust_remote_code=True)``.
        name: how the page names it (the Hub id).
        bonafide_label: the label that means bona fide (``codecfake space`` reads it from the config).
    """

    conditions: list[str] = []

    def __init__(self, classifier, name: str, bonafide_label: str = "bonafide") -> None:
        self.classifier = classifier
        self.name = name
        self.bonafide_label = bonafide_label
        self.calibrated = bool(getattr(classifier.model.config, "calibration", None))
        extractor = classifier.feature_extractor
        self.window_seconds = extractor.num_samples / extractor.sampling_rate

    def score(self, path: str, mode: str) -> dict:
        """The pipeline's scores of the windows of one file, or the reason it refused the file."""
        try:
            return {"outputs": self.classifier.forward(self.classifier.preprocess(path, mode=mode))}
        except ValueError as error:  # the pipeline's AudioInputError: unreadable, silent, too short
            return {"error": str(error).replace(path, path.rsplit("/", 1)[-1])}

    def score_files(self, paths, mode: str) -> list[dict]:
        return [self.score(path, mode) for path in paths]

    def score_conditions(self, path: str, mode: str, conditions) -> list:
        return []

    def result(self, scored: dict, prior_spoof: float, file_name: str) -> dict:
        if "error" in scored:
            return {"file": file_name, "error": scored["error"]}
        labels = self.classifier.postprocess(
            scored["outputs"], top_k=self.classifier.model.config.num_labels, prior_spoof=prior_spoof,
            window_scores=True,
        )  # fmt: skip
        (bonafide,) = [entry for entry in labels if entry["label"] == self.bonafide_label]
        shown = [{key: entry[key] for key in ("label", "score", "llr") if key in entry} for entry in labels]
        return {
            "file": file_name,
            "error": None,
            "label": labels[0]["label"],
            "probability": bonafide["score"],
            "score": None,
            "llr": bonafide.get("llr"),
            "prior_spoof": prior_spoof if self.calibrated else None,
            "num_windows": len(bonafide["window_scores"]),
            "window_starts": bonafide["window_starts"],
            "window_probabilities": bonafide["window_scores"],
            "window_seconds": self.window_seconds,
            "operating_point": self.classifier.operating_point(prior_spoof),
            "json": json.dumps(shown, indent=2),
        }

    def command(self, file_name: str, mode: str, prior_spoof: float) -> str:
        prior = f", prior_spoof={prior_spoof:g}" if self.calibrated else ""
        return (
            f'pipeline("audio-classification", model="{self.name}", trust_remote_code=True)'
            f'("{file_name}", mode="{mode}"{prior})'
        )
