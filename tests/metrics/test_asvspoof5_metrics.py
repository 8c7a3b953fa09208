"""ASVspoof 5 metrics against the official evaluation package's values, their properties and their errors.

The golden file's test policy: EER, its threshold, minDCF and actDCF are ratios of counts and match to
1e-12 absolute; Cllr and minCllr match to 1e-9 relative on float64 sets and 1e-6 relative on float32
sets (the official package computes Cllr in the input's dtype). Scores of a float32 set are fed as
float32, and the cost parameters are read from the file.
"""

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.metrics import (
    DetectionCosts,
    MetricInputError,
    compute_act_dcf,
    compute_asvspoof5_metrics,
    compute_cllr,
    compute_eer,
    compute_min_cllr,
    compute_min_dcf,
    det_curve,
)

GOLDEN_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "metrics" / "asvspoof5_cm_public.npz"
with np.load(GOLDEN_PATH, allow_pickle=False) as _golden:
    GOLDEN_SETS = range(int(_golden["n_sets"]))

COUNT_TOLERANCE = 1e-12
CLLR_RELATIVE_TOLERANCE = {"float64": 1e-9, "float32": 1e-6}


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN_PATH, allow_pickle=False) as data:
        return dict(data)


@pytest.fixture(scope="module")
def golden_costs(golden) -> dict[str, float]:
    return {name: float(golden[name]) for name in ("p_spoof", "c_miss", "c_fa")}


def golden_trials(golden, k: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Scores in the dtype the official package was given them in, labels, and that dtype's name."""
    dtype = str(golden[f"input_dtype_{k}"])
    return golden[f"scores_{k}"].astype(dtype), golden[f"labels_{k}"], dtype


@pytest.mark.parametrize("k", GOLDEN_SETS)
def test_golden_set_matches_official_package(golden, golden_costs, k):
    scores, labels, dtype = golden_trials(golden, k)
    threshold = float(golden["act_dcf_threshold"])

    eer, eer_threshold = compute_eer(scores, labels)
    assert abs(eer - golden[f"eer_{k}"]) <= COUNT_TOLERANCE
    assert abs(eer_threshold - golden[f"eer_threshold_{k}"]) <= COUNT_TOLERANCE
    assert abs(compute_min_dcf(scores, labels, **golden_costs) - golden[f"min_dcf_{k}"]) <= COUNT_TOLERANCE
    act_dcf = compute_act_dcf(scores, labels, threshold=threshold, **golden_costs)
    assert abs(act_dcf - golden[f"act_dcf_{k}"]) <= COUNT_TOLERANCE
    cllr_tolerance = {"rel": CLLR_RELATIVE_TOLERANCE[dtype], "abs": 1e-12}
    assert compute_cllr(scores, labels) == pytest.approx(float(golden[f"cllr_{k}"]), **cllr_tolerance)
    assert compute_min_cllr(scores, labels) == pytest.approx(
        float(golden[f"min_cllr_ref_{k}"]), **cllr_tolerance
    )


@pytest.mark.parametrize("k", GOLDEN_SETS)
def test_all_metrics_at_once_use_the_costs_bayes_threshold(golden, golden_costs, k):
    scores, labels, dtype = golden_trials(golden, k)
    metrics = compute_asvspoof5_metrics(scores, labels, **golden_costs)
    assert set(metrics) == {"eer", "min_dcf", "act_dcf", "cllr", "min_cllr"}
    for name in ("eer", "min_dcf", "act_dcf"):
        assert abs(metrics[name] - golden[f"{name}_{k}"]) <= COUNT_TOLERANCE, name
    cllr_tolerance = {"rel": CLLR_RELATIVE_TOLERANCE[dtype], "abs": 1e-12}
    assert metrics["cllr"] == pytest.approx(float(golden[f"cllr_{k}"]), **cllr_tolerance)
    assert metrics["min_cllr"] == pytest.approx(float(golden[f"min_cllr_ref_{k}"]), **cllr_tolerance)


def test_cost_model_of_the_golden_file(golden, golden_costs):
    costs = DetectionCosts(**golden_costs)
    assert costs == DetectionCosts()  # the defaults are ASVspoof 5 Track 1's
    assert abs(costs.bayes_threshold - float(golden["act_dcf_threshold"])) <= 1e-15
    assert costs.normalised_dcf(0.0, 1.0) == 1.0  # accepting everything costs exactly the normaliser
    assert "float32" in {str(golden[f"input_dtype_{k}"]) for k in GOLDEN_SETS}  # the float32 path is tested


def test_float32_scores_give_the_metrics_of_their_float64_values():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 400)
    scores = (labels * 2.0 - 1.0 + rng.normal(0, 1.5, labels.size)).astype(np.float32)
    single, double = (compute_asvspoof5_metrics(s, labels) for s in (scores, scores.astype(np.float64)))
    assert single == double


def tie_heavy_sets(count: int):
    """Small random score sets on a coarse grid (many cross-class ties), both classes present."""
    rng = np.random.default_rng(2025)
    for _ in range(count):
        n = int(rng.integers(2, 60))
        labels = rng.permutation(np.r_[1, 0, rng.integers(0, 2, n - 2)])
        shift = rng.uniform(-1, 3)
        scores = np.round(labels * shift + rng.normal(0, 1.5, n), int(rng.integers(0, 2))) - 0.3
        yield scores, labels


def test_metric_properties_on_random_tie_heavy_sets():
    for scores, labels in tie_heavy_sets(200):
        min_dcf, act_dcf = compute_min_dcf(scores, labels), compute_act_dcf(scores, labels)
        cllr, min_cllr = compute_cllr(scores, labels), compute_min_cllr(scores, labels)
        assert 0 <= min_dcf <= 1
        assert act_dcf >= min_dcf - 1e-15
        assert 0 <= min_cllr <= cllr + 1e-12
        # no affine recalibration of the scores does better than the best monotone one
        for scale, offset in ((0.5, 0.0), (2.0, 1.0), (1.0, -2.0)):
            assert min_cllr <= compute_cllr(scale * scores + offset, labels) + 1e-12


def test_min_dcf_is_the_minimum_over_realisable_thresholds_whatever_the_tie_order():
    """Inside a block of tied scores the order of the two classes does not change minDCF: the minimum
    is reached at "reject nothing" or "reject every score <= u" for a distinct score u."""
    rng = np.random.default_rng(11)
    for scores, labels in tie_heavy_sets(200):
        bona, spoof = scores[labels == 1], scores[labels == 0]
        costs = DetectionCosts()
        realisable = [costs.normalised_dcf(0.0, 1.0)] + [
            costs.normalised_dcf(np.mean(bona <= u), np.mean(spoof > u)) for u in np.unique(scores)
        ]
        expected = min(realisable)
        assert compute_min_dcf(scores, labels) == pytest.approx(expected, abs=1e-12)
        order = rng.permutation(scores.size)
        assert compute_min_dcf(scores[order], labels[order]) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "transform",
    [lambda x: 4.0 * x + 8.0, np.exp, np.arctan, lambda x: x**3 + x],
    ids=["affine", "exp", "arctan", "cubic"],
)
def test_min_cllr_is_invariant_to_a_strictly_increasing_transform(transform):
    for scores, labels in tie_heavy_sets(50):
        transformed = transform(scores)
        assert np.unique(transformed).size == np.unique(scores).size  # still strictly increasing in floats
        assert compute_min_cllr(transformed, labels) == pytest.approx(
            compute_min_cllr(scores, labels), abs=1e-12
        )


def test_min_cllr_pools_tied_scores_into_one_calibrated_value():
    # the tie at 1.0 holds both classes and gets one value: PAV gives 0, 1/2, 1/2, 1, so with
    # N_bona = N_spoof the tied pair has LLR 0 (ln 2 nats each) and the rest cost nothing: 0.5 bit.
    # Ranking the spoof trial of the tie first would make the classes separable and give 0.
    assert compute_min_cllr([0.0, 1.0, 1.0, 2.0], [0, 1, 0, 1]) == pytest.approx(0.5, abs=1e-15)
    # alternating classes: PAV pools everything to 1/2, every LLR is 0: 1 bit
    assert compute_min_cllr([0.0, 1.0, 2.0, 3.0], [1, 0, 1, 0]) == pytest.approx(1.0, abs=1e-15)
    # separable classes: 0
    assert compute_min_cllr([0.0, 1.0, 2.0, 3.0], [0, 0, 1, 1]) == 0.0


def test_act_dcf_accepts_a_score_exactly_at_the_threshold():
    threshold = DetectionCosts().bayes_threshold
    # a bona fide trial exactly at the threshold is accepted: no miss
    assert compute_act_dcf([threshold, threshold - 1], [1, 0]) == 0.0
    # a spoof trial exactly at the threshold is accepted too: a false alarm, W_fa / min(W_miss, W_fa) = 1
    assert compute_act_dcf([threshold + 1, threshold], [1, 0]) == 1.0
    # every trial wrong: 1 + W_miss / W_fa = 2.9 at the defaults
    assert compute_act_dcf([threshold - 1, threshold + 1], [1, 0]) == pytest.approx(2.9, abs=1e-15)


def test_costs_are_read_from_the_arguments():
    scores, labels = [0.2, 0.4, 0.1, 0.3, 0.5], [1, 1, 0, 0, 1]
    p_miss, p_fa, _ = det_curve(scores, labels)
    # equal costs and priors: the normalised DCF is P_miss + P_fa and the Bayes threshold is 0
    assert compute_min_dcf(scores, labels, p_spoof=0.5, c_miss=1.0, c_fa=1.0) == pytest.approx(
        float(np.min(p_miss + p_fa)), abs=1e-15
    )
    assert DetectionCosts(p_spoof=0.5, c_miss=2.0, c_fa=2.0).bayes_threshold == 0.0
    # W_miss = 0.9 < W_fa = 2: normalised by W_miss, one false alarm out of two costs 2 / 0.9 / 2
    assert compute_act_dcf([1.0, 1.0, 1.0, -1.0], [1, 1, 0, 0], p_spoof=0.1, c_miss=1.0, c_fa=20.0) == (
        pytest.approx(2.0 * 0.5 / 0.9, abs=1e-15)
    )
    assert compute_min_dcf(scores, labels, p_spoof=0.5) != compute_min_dcf(scores, labels)


def test_cllr_is_finite_and_exact_for_extreme_scores():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        assert compute_cllr([-1000.0, 1000.0], [1, 0]) == pytest.approx(1000 / math.log(2), rel=1e-15)
        huge = compute_cllr([-1e308, -1e308, 1e308, 1e308], [1, 1, 0, 0])
        assert math.isfinite(huge) and huge == pytest.approx(1e308 / math.log(2), rel=1e-15)
        assert compute_cllr([800.0, -800.0], [1, 0]) == 0.0  # confidently right costs nothing
        assert compute_min_cllr([-1e308, 1e308], [1, 0]) == 1.0
    assert compute_cllr(np.zeros(6), [1, 0, 1, 0, 1, 1]) == 1.0  # an uninformative system costs 1 bit


ALL_METRICS = [compute_min_dcf, compute_act_dcf, compute_cllr, compute_min_cllr, compute_asvspoof5_metrics]


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda metric: metric.__name__)
@pytest.mark.parametrize(
    "scores, labels, message",
    [
        ([0.1, np.nan, 0.3], [1, 0, 0], "NaN or infinite"),
        ([0.1, np.inf, 0.3], [1, 0, 0], "NaN or infinite"),
        ([0.1, -np.inf, 0.3], [1, 0, 0], "NaN or infinite"),
        ([0.1, 0.2], [1, 1], "all 2 trials are bona fide"),
        ([0.1, 0.2], [0, 0], "all 2 trials are spoof"),
        ([], [], "no trials"),
        ([0.1, 0.2, 0.3], [1, 0], "3 scores but 2 labels"),
        ([0.1, 0.2], [1, 2], "labels must be 1"),
        ([0.1, 0.2], [1, 0.5], "labels must be 1"),
        ([0.1, 0.2], ["bonafide", "spoof"], "labels must be 1"),
        ([[0.1, 0.2], [0.3, 0.4]], [[1, 0], [1, 0]], "must be 1-D"),
        (["a", "b"], [1, 0], "real numbers"),
    ],
)
def test_bad_trials_get_a_clear_error(metric, scores, labels, message):
    with pytest.raises(MetricInputError, match=message) as raised:
        metric(scores, labels)
    assert isinstance(raised.value, CodecFakeError) and isinstance(raised.value, ValueError)
    assert "\n" not in str(raised.value)


ALL_METRICS = [compute_min_dcf, compute_act_dcf, compute_cllr, compute_min_cllr, compute_asvspoof5_metrics]


@pytest.mark.parametrize("metric", ALL_METRICS)
@pytest.mark.parametrize(
    "costs, message",
    [
        ({"p_spoof": 0.0}, "strictly between 0 and 1"),
        ({"p_spoof": 1.0}, "strictly between 0 and 1"),
        ({"p_spoof": -0.1}, "strictly between 0 and 1"),
        ({"p_spoof": float("nan")}, "finite"),
        ({"c_miss": 0.0}, "positive"),
        ({"c_fa": -10.0}, "positive"),
        ({"c_fa": float("inf")}, "finite"),
        ({"c_miss": "1"}, "real number"),
    ],
)
def test_invalid_costs_get_a_clear_error(metric, costs, message):
    with pytest.raises(MetricInputError, match=message):
        metric([0.1, 0.2], [1, 0], **costs)


def test_every_metric_takes_the_costs_and_only_the_dcfs_depend_on_them(golden):
    scores, labels = golden["scores_1"], golden["labels_1"]
    other = {"p_spoof": 0.3, "c_miss": 2.0, "c_fa": 3.0}
    assert compute_cllr(scores, labels, **other) == compute_cllr(scores, labels)
    assert compute_min_cllr(scores, labels, **other) == compute_min_cllr(scores, labels)
    assert compute_min_dcf(scores, labels, **other) != compute_min_dcf(scores, labels)
    with pytest.raises(TypeError):
        compute_cllr(scores, labels, prior=0.3)  # a misspelt cost is not silently ignored


def test_act_dcf_rejects_a_non_finite_threshold():
    with pytest.raises(MetricInputError, match="threshold"):
        compute_act_dcf([0.1, 0.2], [1, 0], threshold=float("nan"))
