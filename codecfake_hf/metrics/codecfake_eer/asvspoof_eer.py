"""Equal error rate exactly as ASVspoof's ``compute_eer`` defines it (the metric of the official AASIST
code, ``clovaai/aasist`` at ``a04c986``, written here from its definition; that file is CC BY-NC-SA).

The one implementation of the EER: the `evaluate` metric of this folder imports it (``evaluate.load``
copies it beside the metric script, so the metric needs only numpy), and the package re-exports it as
``codecfake_hf.metrics.compute_eer``. It imports nothing but numpy.

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
