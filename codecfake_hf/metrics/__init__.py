"""Metrics: the ASVspoof EER, its `evaluate` wrapper and the paper's significance tests."""

from pathlib import Path

from codecfake_hf.metrics.eer import SignificanceResult, compare_detectors, compute_eer, det_curve

#: Folder of the `evaluate` metric module: ``evaluate.load(EER_METRIC_PATH)`` works offline.
EER_METRIC_PATH = str(Path(__file__).parent / "codecfake_eer")


def load_eer_metric():
    """The EER metric as an ``evaluate.EvaluationModule`` (no network needed), computed in memory:
    no cache file is written, so scoring writes nothing outside its output folder."""
    import evaluate

    return evaluate.load(EER_METRIC_PATH, keep_in_memory=True)


__all__ = [
    "EER_METRIC_PATH",
    "SignificanceResult",
    "compare_detectors",
    "compute_eer",
    "det_curve",
    "load_eer_metric",
]
