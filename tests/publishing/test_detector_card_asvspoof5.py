"""Model cards carry the ASVspoof 5 metrics beside the EER in ``model-index`` (DCFs as fractions, Cllr in
bits, as the metric names say), from the ``metrics.csv`` that ``codecfake evaluate`` writes."""

from __future__ import annotations

import pandas as pd
import pytest
from huggingface_hub import ModelCard

from codecfake_cli.commands.push_model import read_metrics
from codecfake_hf.errors import InputFileError
from codecfake_hf.publishing.detector_card import detector_card


def test_model_index_holds_every_metric_with_its_unit(tmp_path):
    metrics = {
        "A": {"min_dcf": 0.5, "act_dcf": 1.25, "cllr": 0.9, "min_cllr": 0.4},
        "C": {"min_dcf": 0.0, "act_dcf": 0.1, "cllr": 0.05, "min_cllr": 0.0},
    }
    card = detector_card(model_name="m", repo_id="org/m", train_config="C", eers={"A": 0.3589, "C": 0.0},
                         metrics=metrics, dataset_id="org/codecfake")  # fmt: skip
    card.save(tmp_path / "README.md")
    results = ModelCard.load(tmp_path / "README.md").data.eval_results
    values = {(r.dataset_config, r.metric_type, r.metric_name): r.metric_value for r in results}
    assert values == {
        ("A", "eer", "EER (%)"): 35.89, ("A", "min_dcf", "minDCF"): 0.5, ("A", "act_dcf", "actDCF"): 1.25,
        ("A", "cllr", "Cllr (bits)"): 0.9, ("A", "min_cllr", "minCllr (bits)"): 0.4,
        ("C", "eer", "EER (%)"): 0.0, ("C", "min_dcf", "minDCF"): 0.0, ("C", "act_dcf", "actDCF"): 0.1,
        ("C", "cllr", "Cllr (bits)"): 0.05, ("C", "min_cllr", "minCllr (bits)"): 0.0,
    }  # fmt: skip
    text = ModelCard.load(tmp_path / "README.md").text
    assert "| EER (%) | 35.89 | 0.00 |" in text and "| actDCF | 1.2500 | 0.1000 |" in text


def test_metrics_csv_is_read_for_the_eers_test_sets(tmp_path):
    frame = pd.DataFrame(
        {"test_set": ["A", "C"], "eer": [0.3, 0.0], "min_dcf": [0.5, 0.0], "act_dcf": [1.2, 0.1],
         "cllr": [0.9, 0.05], "min_cllr": [0.4, 0.0], "calibrated": [True, True]}
    )  # fmt: skip
    frame.to_csv(tmp_path / "metrics.csv", index=False)
    read = read_metrics(str(tmp_path / "metrics.csv"), {"A": 0.3})
    assert read == {"A": {"min_dcf": 0.5, "act_dcf": 1.2, "cllr": 0.9, "min_cllr": 0.4}}
    with pytest.raises(InputFileError, match="B"):
        read_metrics(str(tmp_path / "metrics.csv"), {"B": 0.1})
    with pytest.raises(InputFileError, match="--eer-csv"):
        read_metrics(str(tmp_path / "metrics.csv"), None)
