"""Equal error rate exactly as ASVspoof's ``compute_eer`` defines it (the metric of the official AASIST
code, ``clovaai/aasist`` at ``a04c986``, written here from its definition; that file is CC BY-NC-SA).

Scores: higher means more bona fide (AASIST's ``logits[:, 1]``). Labels: 1 = bona fide, 0 = spoof.

The definition, which alternatives (unique-score thresholds, spoof-first ties, interpolation)
do not reproduce on tied scores:

1. bona fide scores first, then spoof scores, sorted ascending with a stable sort, so a bona fide
   trial is ranked before a spoof trial of the same score (ties resolved pessimistically);
2. for k = 0..N reject the k lowest-ranked trials: FRR_k = bona fide among them / N_bona,
   FAR_k = spoof among the rest / N_spoof (N + 1 points, one per position, ties not grouped);
3. thresholds ``[lowest score - 0.001, sorted scores...]``;
4. the first k minimising |FRR_k - FAR_k|; EER = (FRR_k + FAR_k) / 2 (a fraction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(scores: np.ndarray, labels: np.ndarray) -> None:
    if scores.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} must be 1-D of the same length")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or inf")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 1 (bona fide) or 0 (spoof)")
    if labels.min() == labels.max():
        raise ValueError("EER needs both bona fide (1) and spoof (0) trials")


def det_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FRR, FAR and thresholds at the N + 1 operating points of the ASVspoof definition.

    Args:
        scores: ``[N]`` detection scores, higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.

    Returns:
        ``(frr [N+1], far [N+1], thresholds [N+1])``, all float64.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    _check(scores, labels)
    bona, spoof = scores[labels == 1], scores[labels == 0]
    ranked = np.concatenate([bona, spoof])
    is_bona = np.concatenate([np.ones(bona.size), np.zeros(spoof.size)])
    order = np.argsort(ranked, kind="mergesort")  # stable: bona fide before spoof on ties
    ranked, is_bona = ranked[order], is_bona[order]
    bona_rejected = np.concatenate([[0.0], np.cumsum(is_bona)])
    spoof_rejected = np.arange(ranked.size + 1) - bona_rejected
    frr = bona_rejected / bona.size
    far = (spoof.size - spoof_rejected) / spoof.size
    thresholds = np.concatenate([[ranked[0] - 0.001], ranked])
    return frr, far, thresholds


def compute_eer(scores, labels) -> tuple[float, float]:
    """Equal error rate and its threshold.

    Args:
        scores: ``[N]`` detection scores, higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.

    Returns:
        ``(eer, threshold)``: ``eer`` a fraction in [0, 1] (multiply by 100 for the paper's %).
    """
    frr, far, thresholds = det_curve(scores, labels)
    k = int(np.argmin(np.abs(frr - far)))  # argmin returns the first minimiser
    return float((frr[k] + far[k]) / 2), float(thresholds[k])


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
