import pandas as pd
from huggingface_hub import ModelCard

from dataset_builder.demo import DISCLAIMER, run_demo


def test_offline_demo_runs_the_whole_chain(tmp_path, capsys):
    written = run_demo(tmp_path / "demo", subsets=("E",), utterances_per_speaker=3, epochs=1)
    matrix = pd.read_csv(written["matrix_csv"], index_col=0)
    assert list(matrix.index) == ["E"] and list(matrix.columns) == ["E"]
    assert 0.0 <= matrix.at["E", "E"] <= 100.0
    assert written["matrix_png"].read_bytes()[:4] == b"\x89PNG"
    card = ModelCard.load(written["card"])
    assert "| metric | E |" in card.text and "pipeline" in card.text
    assert card.data.datasets is None  # a local card names no Hub dataset
    assert (written["model_E"] / "model.safetensors").is_file()
    assert DISCLAIMER in capsys.readouterr().out


def test_a_rerun_reuses_the_finished_runs(tmp_path):
    """train.py refuses an output folder holding a run unless resumed: the demo resumes its own runs."""
    first = run_demo(tmp_path / "demo", subsets=("E",), utterances_per_speaker=3, epochs=1)
    weights = (first["model_E"] / "model.safetensors").read_bytes()
    again = run_demo(tmp_path / "demo", subsets=("E",), utterances_per_speaker=3, epochs=1)
    assert (again["model_E"] / "model.safetensors").read_bytes() == weights
    assert again["matrix_csv"].read_text() == first["matrix_csv"].read_text()
