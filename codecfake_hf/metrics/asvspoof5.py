"""The ASVspoof 5 countermeasure metrics: minDCF, actDCF, Cllr and minCllr, beside the EER.

Written from the definitions of the official evaluation package (repository
``asvspoof-challenge/asvspoof5``, folder ``evaluation-package``, ``calculate_modules.py`` and the
Track-1 entry point of ``calculate_metrics.py`` at ``fe23d30``); no upstream code is here. minDCF,
actDCF and Cllr equal the package's values; minCllr, which the package does not compute, is the
standard minimum Cllr of Brümmer and du Preez (isotonic calibration by pool-adjacent-violators).

Conventions: scores are higher for more bona fide; labels are 1 = bona fide, 0 = spoof. actDCF and
Cllr read the scores as natural-log likelihood ratios ln p(score | bona fide) / p(score | spoof), so
they depend on calibration (a raw logit is not an LLR); EER, minDCF and minCllr depend only on the
order of the scores.

Cost model (keyword arguments ``p_spoof``, ``c_miss``, ``c_fa``; defaults are ASVspoof 5 Track 1's):
a spoof trial has prior ``p_spoof``, rejecting a bona fide trial costs ``c_miss`` and accepting a
spoof costs ``c_fa``. The weights of the two errors are ``W_miss = c_miss (1 - p_spoof)`` and
``W_fa = c_fa p_spoof``; a DCF is normalised by ``min(W_miss, W_fa)``, the cost of the better system
that ignores its input, so 1 means "no better than accepting (or rejecting) everything". At the
defaults ``W_miss = 0.95``, ``W_fa = 0.5`` and a normalised DCF is ``1.9 P_miss + P_fa``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from codecfake_hf.metrics.eer import compute_eer, det_curve
from codecfake_hf.metrics.trials import MetricInputError, check_trials


@dataclass(frozen=True)
class DetectionCosts:
    """Prior and error costs of a detection cost function (DCF); defaults are ASVspoof 5 Track 1's.

    Attributes:
        p_spoof: prior probability of a spoof trial, strictly between 0 and 1.
        c_miss: cost of rejecting a bona fide trial, > 0.
        c_fa: cost of accepting a spoof trial (a false alarm), > 0.
    """

    p_spoof: float = 0.05
    c_miss: float = 1.0
    c_fa: float = 10.0

    def __post_init__(self) -> None:
        for name in ("p_spoof", "c_miss", "c_fa"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise MetricInputError(f"{name}={value!r}: a cost parameter must be a real number")
            if not math.isfinite(value):
                raise MetricInputError(f"{name}={value!r}: a cost parameter must be finite")
        if not 0 < self.p_spoof < 1:
            raise MetricInputError(
                f"p_spoof={self.p_spoof!r}: the spoof prior must lie strictly between 0 and 1 (ASVspoof 5: 0.05)"
            )
        for name in ("c_miss", "c_fa"):
            if getattr(self, name) <= 0:
                raise MetricInputError(f"{name}={getattr(self, name)!r}: an error cost must be positive")

    @property
    def w_miss(self) -> float:
        """Weight of the miss rate: ``c_miss (1 - p_spoof)``."""
        return self.c_miss * (1 - self.p_spoof)

    @property
    def w_fa(self) -> float:
        """Weight of the false-alarm rate: ``c_fa p_spoof``."""
        return self.c_fa * self.p_spoof

    @property
    def normaliser(self) -> float:
        """``min(W_miss, W_fa)``: the cost of the better of "accept everything" and "reject everything"."""
        return min(self.w_miss, self.w_fa)

    @property
    def bayes_threshold(self) -> float:
        """The LLR threshold that minimises the expected cost, ``ln(W_fa / W_miss)`` (-ln 1.9 at the
        defaults): a trial whose LLR is at or above it is accepted as bona fide."""
        return float(-np.log(self.w_miss / self.w_fa))

    def normalised_dcf(self, p_miss, p_fa):
        """``(W_miss P_miss + W_fa P_fa) / min(W_miss, W_fa)`` for error rates given as fractions."""
        return (self.w_miss * p_miss + self.w_fa * p_fa) / self.normaliser


def compute_min_dcf(scores, labels, **costs: float) -> float:
    """Normalised minimum detection cost (ASVspoof 5's primary Track-1 metric), a fraction in [0, 1].

    The normalised DCF of every operating point of :func:`~codecfake_hf.metrics.det_curve` (trials
    ranked by score, bona fide first among equal scores; reject the k lowest for k = 0..N), and the
    smallest of them. k = 0 accepts everything and costs exactly 1, so minDCF <= 1; it is 0 only when
    every spoof score is below every bona fide score. The order of tied trials does not change it.

    Args:
        scores: ``[N]`` detection scores, higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        **costs: ``p_spoof`` (default 0.05), ``c_miss`` (1.0), ``c_fa`` (10.0); see :class:`DetectionCosts`.
    """
    cost_model = DetectionCosts(**costs)
    scores, labels = check_trials(scores, labels, "compute_min_dcf")
    p_miss, p_fa, _ = det_curve(scores, labels)
    return float(np.min(cost_model.normalised_dcf(p_miss, p_fa)))


def compute_act_dcf(scores, labels, threshold: float | None = None, **costs: float) -> float:
    """Normalised actual detection cost of scores taken as natural-log LLRs, a fraction >= 0.

    At most ``1 + max(W_miss, W_fa) / min(W_miss, W_fa)`` (2.9 at the defaults), so it can exceed 1.

    The DCF at one fixed threshold: P_miss = share of bona fide scores below it, P_fa = share of spoof
    scores at or above it (a score equal to the threshold is accepted). The default threshold is the
    Bayes decision threshold of the costs, ``ln(W_fa / W_miss)``, so actDCF >= minDCF and the gap
    measures miscalibration; unlike minDCF it changes with the scale and offset of the scores.

    Args:
        scores: ``[N]`` log-likelihood ratios (natural log), higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        threshold: decision threshold on the scores; default :attr:`DetectionCosts.bayes_threshold`.
        **costs: ``p_spoof`` (default 0.05), ``c_miss`` (1.0), ``c_fa`` (10.0); see :class:`DetectionCosts`.
    """
    cost_model = DetectionCosts(**costs)
    scores, labels = check_trials(scores, labels, "compute_act_dcf")
    if threshold is None:
        threshold = cost_model.bayes_threshold
    elif not math.isfinite(threshold):
        raise MetricInputError(f"threshold={threshold!r}: the decision threshold must be finite")
    bona, spoof = scores[labels == 1], scores[labels == 0]
    p_miss = np.count_nonzero(bona < threshold) / bona.size
    p_fa = np.count_nonzero(spoof >= threshold) / spoof.size
    return float(cost_model.normalised_dcf(p_miss, p_fa))


def _cllr_bits(bona_llrs: np.ndarray, spoof_llrs: np.ndarray) -> float:
    """Cllr in bits of natural-log LLRs split by class; +inf for a bona fide LLR or -inf for a spoof
    LLR costs nothing. ``ln(1 + e^x)`` is ``logaddexp(0, x)`` (never overflows), and each mean divides
    before summing, so finite scores always give a finite Cllr."""
    bona_nats = np.sum(np.logaddexp(0.0, -bona_llrs) / bona_llrs.size)
    spoof_nats = np.sum(np.logaddexp(0.0, spoof_llrs) / spoof_llrs.size)
    return float(bona_nats / (2 * np.log(2)) + spoof_nats / (2 * np.log(2)))


def compute_cllr(scores, labels, **costs: float) -> float:
    """Log-likelihood-ratio cost of scores taken as natural-log LLRs, in bits (>= 0, unbounded).

    ``Cllr = [mean_i ln(1 + e^(-b_i)) + mean_j ln(1 + e^(s_j))] / (2 ln 2)`` over bona fide scores b
    and spoof scores s: the cross-entropy, in bits, of the posteriors the LLRs give at prior 1/2,
    averaged over the two classes. 1 bit is the cost of an uninformative system (every LLR 0); it
    grows without bound for confidently wrong scores. Computed in float64 in a form that cannot
    overflow, so scores of any finite size give a finite value.

    Args:
        scores: ``[N]`` log-likelihood ratios (natural log), higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        **costs: accepted and checked like the DCFs' (one call signature for every metric), but Cllr is
            defined at prior 1/2 with unit costs, as in the official package: they do not change it.
    """
    DetectionCosts(**costs)
    scores, labels = check_trials(scores, labels, "compute_cllr")
    return _cllr_bits(scores[labels == 1], scores[labels == 0])


def _pool_adjacent_violators(positives: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic (non-decreasing) weighted least-squares fit of ``positives / sizes`` by PAV.

    Args:
        positives: ``[G]`` count of positives in each group, groups in ascending score order.
        sizes: ``[G]`` size of each group (> 0), its weight in the fit.

    Returns:
        ``(positives [G], sizes [G])`` of the block each group ends in; the fitted value of a group is
        their ratio. Neighbouring blocks merge only while the left one's share is strictly greater;
        the comparison is on integer counts, so it is exact.
    """
    block_positives: list[int] = []
    block_sizes: list[int] = []
    block_groups: list[int] = []
    for positive, size in zip(positives.tolist(), sizes.tolist()):
        block_positives.append(positive)
        block_sizes.append(size)
        block_groups.append(1)
        while (
            len(block_sizes) > 1
            and block_positives[-2] * block_sizes[-1] > block_positives[-1] * block_sizes[-2]
        ):
            positive, size, groups = block_positives.pop(), block_sizes.pop(), block_groups.pop()
            block_positives[-1] += positive
            block_sizes[-1] += size
            block_groups[-1] += groups
    return np.repeat(block_positives, block_groups), np.repeat(block_sizes, block_groups)


def compute_min_cllr(scores, labels, **costs: float) -> float:
    """Minimum Cllr in bits: the Cllr after the best monotone calibration of the scores, in [0, Cllr].

    1. group the trials by distinct score (tied trials get one value) and sort the groups ascending;
    2. fit a non-decreasing bona fide share p to the groups by isotonic regression (pool-adjacent-
       violators, each group weighted by its size);
    3. turn p into an LLR without the data's own prior odds: ``ln(p / (1 - p)) - ln(N_bona / N_spoof)``
       (+inf for a bona fide trial at p = 1 and -inf for a spoof trial at p = 0 cost nothing);
    4. minCllr = :func:`compute_cllr` of those LLRs.

    It is 0 for separable classes, 1 when no monotone map helps (everything pools into one block),
    and unchanged by any strictly increasing transform of the scores; Cllr - minCllr is the
    calibration loss. The official ASVspoof 5 package has no minCllr; this is Brümmer and du Preez's.

    Args:
        scores: ``[N]`` detection scores, higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        **costs: accepted and checked, not used (see :func:`compute_cllr`).
    """
    DetectionCosts(**costs)
    scores, labels = check_trials(scores, labels, "compute_min_cllr")
    _, group, group_sizes = np.unique(scores, return_inverse=True, return_counts=True)
    group_bona = np.bincount(group[labels == 1], minlength=group_sizes.size)
    block_bona, block_sizes = _pool_adjacent_violators(group_bona, group_sizes)
    n_bona = int(labels.sum())
    prior_log_odds = np.log(n_bona) - np.log(labels.size - n_bona)
    with np.errstate(divide="ignore"):  # p = 0 or 1: an LLR of -inf or +inf
        group_llrs = np.log(block_bona) - np.log(block_sizes - block_bona) - prior_log_odds
    llrs = group_llrs[group]
    return _cllr_bits(llrs[labels == 1], llrs[labels == 0])


def compute_asvspoof5_metrics(scores, labels, **costs: float) -> dict[str, float]:
    """Every ASVspoof 5 Track-1 metric of one set of trials.

    Args:
        scores: ``[N]`` detection scores, higher = more bona fide; natural-log LLRs for ``act_dcf``
            and ``cllr`` to be meaningful.
        labels: ``[N]`` 1 = bona fide, 0 = spoof.
        **costs: ``p_spoof`` (default 0.05), ``c_miss`` (1.0), ``c_fa`` (10.0); only the two DCFs
            depend on them.

    Returns:
        ``{"eer", "min_dcf", "act_dcf", "cllr", "min_cllr"}``: EER, minDCF and actDCF as fractions,
        Cllr and minCllr in bits.
    """
    check_trials(scores, labels, "compute_asvspoof5_metrics")  # one clear error before any metric runs
    return {
        "eer": compute_eer(scores, labels)[0],
        "min_dcf": compute_min_dcf(scores, labels, **costs),
        "act_dcf": compute_act_dcf(scores, labels, **costs),
        "cllr": compute_cllr(scores, labels, **costs),
        "min_cllr": compute_min_cllr(scores, labels, **costs),
    }
