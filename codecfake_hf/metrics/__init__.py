"""Metrics: the ASVspoof EER, its `evaluate` wrapper, the paper's significance tests and the ASVspoof 5
metrics (minDCF, actDCF, Cllr, minCllr)."""

from pathlib import Path

from codecfake_hf.metrics.asvspoof5 import (
    DetectionCosts,
    compute_act_dcf,
    compute_asvspoof5_metrics,
    compute_cllr,
    compute_min_cllr,
    compute_min_dcf,
)
from codecfake_hf.metrics.eer import SignificanceResult, compare_detectors, compute_eer, det_curve
from codecfake_hf.metrics.trials import MetricInputError

#: Folder of the `evaluate` metric module: ``evaluate.load(EER_METRIC_PATH)`` works offline.
EER_METRIC_PATH = str(Path(__file__).parent / "codecfake_eer")


def load_eer_metric():
    """The EER metric as an ``evaluate.EvaluationModule`` (no network needed), computed in memory:
    no cache file is written, so scoring writes nothing outside its output folder."""
    import evaluate

    return evaluate.load(EER_METRIC_PATH, keep_in_memory=True)


__all__ = [
    "EER_METRIC_PATH",
    "DetectionCosts",
    "MetricInputError",
    "SignificanceResult",
    "compare_detectors",
    "compute_act_dcf",
    "compute_asvspoof5_metrics",
    "compute_cllr",
    "compute_eer",
    "compute_min_cllr",
    "compute_min_dcf",
    "det_curve",
    "load_eer_metric",
]
