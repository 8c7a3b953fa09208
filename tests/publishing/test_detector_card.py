from huggingface_hub import ModelCard

from codecfake_hf.publishing.detector_card import detector_card


def test_detector_card_has_model_index_and_results(tmp_path):
    card = detector_card(
        model_name="aasist-l-codecfake-C",
        repo_id="org/aasist-l-codecfake-C",
        train_config="C",
        eers={"A": 0.3589, "C": 0.0},
        dataset_id="org/codecfake",
        training_summary="Adam, lr 1e-3, batch 16, 4 epochs.",
    )
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    results = {r.dataset_config: r.metric_value for r in loaded.data.eval_results}
    assert results == {"A": 35.89, "C": 0.0}
    assert all(r.metric_type == "eer" and r.dataset_split == "test" for r in loaded.data.eval_results)
    assert {r.metric_name for r in loaded.data.eval_results} == {"EER (%)"}
    assert {r.dataset_type for r in loaded.data.eval_results} == {"org/codecfake"}
    assert loaded.data.pipeline_tag == "audio-classification"
    text = loaded.text
    assert "| EER (%) | 35.89 | 0.00 |" in text
    assert "AudioDec" in text and "non-commercial" in text
    assert "Adam, lr 1e-3, batch 16, 4 epochs." in text


def test_baseline_card_says_official_weights():
    card = detector_card(model_name="AASIST-L", repo_id="org/aasist-l", train_config=None)
    assert "official ASVspoof 2019 LA weights" in card.text
    assert "No evaluation results" in card.text and card.data.eval_results is None
