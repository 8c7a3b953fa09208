"""Checks of the trials a detection metric is computed from: one score and one label per trial.

Scores: higher means more bona fide. Labels: 1 = bona fide, 0 = spoof.
"""

from __future__ import annotations

import numpy as np

from codecfake_hf.errors import CodecFakeError


class MetricInputError(CodecFakeError, ValueError):
    """Scores, labels or cost parameters that a metric cannot be computed from."""


def check_trials(scores, labels, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The trials as arrays a metric can use, or a :class:`MetricInputError` saying what is wrong.

    Args:
        scores: ``[N]`` real detection scores, higher = more bona fide (float32 is upcast exactly).
        labels: ``[N]`` 1 = bona fide, 0 = spoof (integers, booleans or floats equal to 0 or 1).
        metric: the metric's name, used in error messages.

    Returns:
        ``(scores [N] float64, labels [N] int64)``, with both classes present and every score finite.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim != 1 or labels.ndim != 1:
        raise MetricInputError(
            f"{metric}: scores and labels must be 1-D, one entry per trial; got shapes {scores.shape} "
            f"and {labels.shape}; pass one score per trial (e.g. the bona fide logit, logits[:, 1])"
        )
    if scores.size != labels.size:
        raise MetricInputError(
            f"{metric}: {scores.size} scores but {labels.size} labels; pass one label per score"
        )
    if scores.size == 0:
        raise MetricInputError(f"{metric}: no trials; pass at least one bona fide and one spoof trial")
    if scores.dtype.kind not in "iuf":
        raise MetricInputError(f"{metric}: scores must be real numbers, got dtype {scores.dtype}")
    if labels.dtype.kind not in "biuf":
        raise MetricInputError(
            f"{metric}: labels must be 1 (bona fide) or 0 (spoof), got dtype {labels.dtype}; "
            "map e.g. 'bonafide' to 1 and 'spoof' to 0"
        )
    scores = scores.astype(np.float64)
    not_finite = np.flatnonzero(~np.isfinite(scores))
    if not_finite.size:
        first = not_finite[0]
        raise MetricInputError(
            f"{metric}: {not_finite.size} score(s) are NaN or infinite (the first, trial {first}, is "
            f"{scores[first]}); every score must be finite: fix or drop those trials"
        )
    not_binary = np.flatnonzero((labels != 0) & (labels != 1))
    if not_binary.size:
        first = not_binary[0]
        raise MetricInputError(
            f"{metric}: labels must be 1 (bona fide) or 0 (spoof); trial {first} has {labels[first]!r}"
        )
    labels = labels.astype(np.int64)
    n_bona = int(labels.sum())
    if n_bona in (0, labels.size):
        present = "bona fide (1)" if n_bona else "spoof (0)"
        raise MetricInputError(
            f"{metric}: all {labels.size} trials are {present}; the metric needs both bona fide (1) "
            "and spoof (0) trials"
        )
    return scores, labels
