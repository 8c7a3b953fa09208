"""The paper's significance tests between two detectors, and the EER they decide at.

The EER itself (:func:`compute_eer`, :func:`det_curve`, exactly ASVspoof's definition) lives in
``codecfake_eer/asvspoof_eer.py``, the file the `evaluate` metric of that folder carries, so the
library and the metric share one implementation; it is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codecfake_hf.metrics.codecfake_eer.asvspoof_eer import compute_eer, det_curve

__all__ = ["SignificanceResult", "compare_detectors", "compute_eer", "decisions", "det_curve"]


@dataclass(frozen=True)
class SignificanceResult:
    """Paired comparison of two detectors on the same trials (the paper's Table 3 tests).

    Attributes:
        accuracy_a, accuracy_b: fraction of trials each detector decides correctly.
        ttest_p: two-sided p-value of the paired-sample t-test on per-trial correctness.
        wilcoxon_p: two-sided p-value of the Wilcoxon signed-rank test on the same pairs.
        alpha: significance level (the paper's 0.01).
    """

    accuracy_a: float
    accuracy_b: float
    ttest_p: float
    wilcoxon_p: float
    alpha: float

    @property
    def significant(self) -> bool:
        """Both tests reject "the detectors decide equally well" at ``alpha``."""
        return self.ttest_p < self.alpha and self.wilcoxon_p < self.alpha

    @property
    def better(self) -> str | None:
        """``"a"`` or ``"b"`` when the difference is significant, else None."""
        if not self.significant:
            return None
        return "a" if self.accuracy_a > self.accuracy_b else "b"


def decisions(scores, threshold: float) -> np.ndarray:
    """Per-trial decision ``1`` (bona fide) where ``score > threshold``, else ``0`` (spoof).

    Matches the EER operating point: the trials at or below the threshold are the rejected ones.
    """
    return (np.asarray(scores, dtype=np.float64) > threshold).astype(np.int64)


def compare_detectors(
    scores_a, scores_b, labels, thresholds: tuple[float, float] | None = None, alpha: float = 0.01
) -> SignificanceResult:
    """The paper's significance tests between two detectors scored on the same trials.

    Each detector's per-trial decision is taken at its own EER threshold (or ``thresholds``);
    per-trial correctness (1/0) of the two detectors is compared with a paired-sample t-test and a
    Wilcoxon signed-rank test (two-sided). Identical correctness everywhere gives p = 1.

    Args:
        scores_a, scores_b: ``[N]`` scores of the two detectors on the same trials, same order.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        thresholds: decision thresholds (a, b); default each detector's EER threshold.
        alpha: significance level.
    """
    from scipy import stats

    labels = np.asarray(labels).astype(np.int64)
    if thresholds is None:
        thresholds = (compute_eer(scores_a, labels)[1], compute_eer(scores_b, labels)[1])
    correct_a = (decisions(scores_a, thresholds[0]) == labels).astype(np.float64)
    correct_b = (decisions(scores_b, thresholds[1]) == labels).astype(np.float64)
    if correct_a.shape != correct_b.shape:
        raise ValueError("both detectors must be scored on the same trials")
    differences = correct_a - correct_b
    if not differences.any():
        ttest_p = wilcoxon_p = 1.0
    else:
        ttest_p = float(stats.ttest_rel(correct_a, correct_b).pvalue)
        wilcoxon_p = float(stats.wilcoxon(differences).pvalue)
        if np.isnan(ttest_p):  # constant non-zero difference: the t statistic is infinite
            ttest_p = 0.0
    return SignificanceResult(float(correct_a.mean()), float(correct_b.mean()), ttest_p, wilcoxon_p, alpha)
