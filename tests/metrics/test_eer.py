import shutil
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub.repocard import metadata_load

from codecfake_hf.metrics import EER_METRIC_PATH, compare_detectors, compute_eer, load_eer_metric
from tests.models.aasist.test_remote_code import run_outside_the_checkout

PROBE = Path(__file__).with_name("eer_metric_probe.py")


def test_eer_equals_asvspoof_golden(fixtures_dir):
    golden = np.load(fixtures_dir / "aasist" / "eer_golden_public.npz")
    for k in range(5):
        eer, threshold = compute_eer(golden[f"scores_{k}"], golden[f"labels_{k}"])
        assert abs(eer - float(golden[f"eer_{k}"])) <= 1e-12, k
        assert abs(threshold - float(golden[f"thr_{k}"])) <= 1e-12, k


@pytest.mark.parametrize(
    "scores, labels, expected",
    [
        ([1, 2, 0, 1], [1, 1, 0, 0], 0.5),  # cross-class tie: bona fide rejected first
        ([3, 3, 3, 3], [1, 0, 1, 0], 1.0),  # all identical
        ([0, 1, 2, 3], [1, 1, 0, 0], 1.0),  # reversed
        ([2, 3, 0, 1], [1, 1, 0, 0], 0.0),  # separated
    ],
)
def test_eer_tie_and_edge_rules(scores, labels, expected):
    assert compute_eer(scores, labels)[0] == expected


def test_separated_threshold_is_highest_spoof_score():
    assert compute_eer([2.0, 3.0, 0.0, 1.0], [1, 1, 0, 0]) == (0.0, 1.0)


@pytest.mark.parametrize(
    "scores, labels, message",
    [([0.1, np.nan], [1, 0], "NaN"), ([0.1, 0.2], [1, 1], "both"), ([0.1, 0.2], [1, 2], "labels")],
)
def test_eer_rejects_bad_input(scores, labels, message):
    with pytest.raises(ValueError, match=message):
        compute_eer(scores, labels)


def test_evaluate_module_loads_offline():
    metric = load_eer_metric()
    result = metric.compute(predictions=[0.9, 0.8, 0.1, 0.85], references=[1, 1, 0, 0])
    assert result == {"eer": 0.5, "threshold": 0.8}


def test_the_metric_folder_works_without_this_package(fixtures_dir, tmp_path):
    """A copy of the folder, ``evaluate.load``-ed offline where ``import codecfake_hf`` fails, gives the
    library's EERs bit for bit on the golden sets (the upstream values to 1e-12), and its card's
    examples run as written."""
    copy = tmp_path / "codecfake_eer"
    shutil.copytree(EER_METRIC_PATH, copy, ignore=shutil.ignore_patterns("__pycache__"))
    golden_path = fixtures_dir / "aasist" / "eer_golden_public.npz"
    out = run_outside_the_checkout(PROBE, [copy, golden_path], tmp_path)
    assert out["codecfake_hf_blocked"]
    assert out["module_files"] == ["__init__.py", "asvspoof_eer.py", "codecfake_eer.py"]  # the EER file too
    golden = np.load(golden_path)
    for k, result in enumerate(out["results"]):
        eer, threshold = compute_eer(golden[f"scores_{k}"], golden[f"labels_{k}"])
        assert (result["eer"], result["threshold"]) == (eer, threshold), k
        assert abs(result["eer"] - float(golden[f"eer_{k}"])) <= 1e-12, k
        assert abs(result["threshold"] - float(golden[f"thr_{k}"])) <= 1e-12, k
    assert out["card_attempted"] >= 5 and out["card_failed"] == 0


def test_the_metric_folder_carries_its_metric_card():
    """README.md in evaluate's metric-card format: YAML header (title, tags, description) and the sections
    of evaluate's template."""
    card = Path(EER_METRIC_PATH) / "README.md"
    header = metadata_load(card)
    assert header["title"] == "CodecFake EER" and {"evaluate", "metric"} <= set(header["tags"])
    assert "compute_eer" in header["description"]
    text = card.read_text(encoding="utf-8")
    for section in ("# Metric Card for CodecFake EER", "## Metric Description", "## How to Use", "### Inputs",
                    "### Output Values", "### Examples", "## Limitations and Bias", "## Citation", "## Further References"):  # fmt: skip
        assert section in text, section


def test_library_and_metric_share_one_implementation():
    import codecfake_hf.metrics.codecfake_eer.asvspoof_eer as shared
    from codecfake_hf.metrics import det_curve, eer

    assert (
        compute_eer is shared.compute_eer
        and det_curve is shared.det_curve
        and eer.compute_eer is shared.compute_eer
    )


def test_significance_tests_detect_a_better_detector_and_not_a_copy():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 600)
    good = labels + rng.normal(0, 0.4, labels.size)
    poor = labels + rng.normal(0, 2.0, labels.size)
    result = compare_detectors(good, poor, labels)
    assert result.significant and result.better == "a"
    assert result.ttest_p < 0.01 and result.wilcoxon_p < 0.01
    same = compare_detectors(good, good.copy(), labels)
    assert (same.ttest_p, same.wilcoxon_p, same.significant, same.better) == (1.0, 1.0, False, None)
    close = compare_detectors(good, good + rng.normal(0, 0.01, labels.size), labels)
    assert not close.significant
