"""``codecfake evaluate`` and ``codecfake matrix`` on a small bonafide/ + spoof/ folder: an unreadable
file is reported and skipped, a baseline that is not significantly different is "neither", and two
models that would share a row name are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from codecfake_cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, write_labelled_folder) -> Path:
    """Three bona fide and three spoof clips of 0.3 s at 16 kHz."""
    return write_labelled_folder(tmp_path_factory.mktemp("zero_shot") / "set", per_class=3, samples=4800)


def test_evaluate_skips_an_unreadable_file_and_scores_the_rest(
    folder, tiny_aasist_dir, tmp_path, capsys, caplog
):
    dataset = tmp_path / "set"
    shutil.copytree(folder, dataset)
    (dataset / "bonafide" / "broken.wav").write_bytes(b"RIFF not really audio")
    out = tmp_path / "eval"
    code = main(
        ["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(dataset), "--output-dir", str(out)]
    )
    assert code == 2
    assert "1 trial(s) with unreadable audio were skipped" in capsys.readouterr().err
    assert "broken.wav: cannot decode audio" in caplog.text and "skipped" in caplog.text
    summary = pd.read_csv(out / "eer.csv", index_col=0)
    assert summary.loc["set", ["n_bonafide", "n_spoof", "n_skipped"]].tolist() == [3, 3, 1]
    scores = pd.read_csv(out / "scores_set.csv", keep_default_na=False)
    broken = scores[scores["utterance_id"] == "bonafide/broken.wav"].iloc[0]
    assert broken["score"] == "" and "cannot decode audio" in broken["error"]
    assert (scores["error"] == "").sum() == 6


def test_evaluate_against_names_neither_when_not_significant(folder, tiny_aasist_dir, tmp_path):
    out = tmp_path / "eval"
    code = main(["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(folder), "--against",
                 str(tiny_aasist_dir), "--output-dir", str(out)])  # fmt: skip
    assert code == 0
    summary = pd.read_csv(out / "eer.csv", index_col=0)
    assert not summary.at["set", "significant"] and summary.at["set", "better"] == "neither"


def test_matrix_refuses_two_models_with_one_row_name(folder, tiny_aasist_dir, tmp_path, capsys):
    models = []
    for run in ("run_a", "run_b"):  # two trainings on config E
        shutil.copytree(tiny_aasist_dir, tmp_path / run / "best")
        (tmp_path / run / "best" / "training_config.json").write_text(json.dumps({"config": "E"}))
        models.append(str(tmp_path / run / "best"))
    common = ["--dataset", str(folder), "--output-dir", str(tmp_path / "matrix")]
    assert main(["matrix", "--models", *models, *common]) == 2
    error = capsys.readouterr().err
    assert f"{models[0]} and {models[1]} would both be named 'E'" in error and "NAME=PATH" in error
    assert main(["matrix", "--models", f"E-a={models[0]}", f"E-b={models[1]}", *common]) == 0
    matrix = pd.read_csv(tmp_path / "matrix" / "cross_test_eer.csv", index_col=0)
    assert list(matrix.index) == ["E-a", "E-b"]


def test_matrix_refuses_one_model_given_twice(folder, tiny_aasist_dir, tmp_path, monkeypatch, capsys):
    """The same folder twice is refused, naming it, before anything is scored or written (it used to be
    taken for two models of one name, and the message asked to name "each one")."""
    shutil.copytree(tiny_aasist_dir, tmp_path / "run" / "best")
    monkeypatch.chdir(tmp_path)
    common = ["--dataset", str(folder), "--output-dir", "mx"]
    assert main(["matrix", "--models", "run/best", "run/best", *common]) == 2
    assert capsys.readouterr().err.strip() == (
        "codecfake matrix: error: run/best: one model given twice; list each model once"
    )
    assert main(["matrix", "--models", "A=run/best", "B=./run/best/", *common]) == 2
    assert capsys.readouterr().err.strip() == (
        "codecfake matrix: error: ./run/best/: one model given twice (as run/best and as ./run/best/); list "
        "each model once"
    )
    assert not (tmp_path / "mx").exists()


def test_a_dataset_without_codec_subsets_says_so(bonafide_build, tiny_aasist_dir, capsys):
    for command in (["evaluate", "--model"], ["calibrate", "--model"], ["matrix", "--models"]):
        assert main([*command, str(tiny_aasist_dir), "--dataset", str(bonafide_build)]) == 2
        err = capsys.readouterr().err
        assert f"{bonafide_build}: holds no codec subset, so no spoof trials (its configs: default, bonafide); " \
               "build one with `codecfake build --subsets E`" in err, err  # fmt: skip
        assert "0 subsets" not in err


def test_evaluate_checks_the_test_set_before_it_creates_the_output_folder(tiny_aasist_dir, tmp_path, capsys):
    dataset = tmp_path / "set"
    (dataset / "bonafide").mkdir(parents=True)
    (dataset / "spoof").mkdir()
    out = tmp_path / "eval"
    assert (
        main(
            ["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(dataset), "--output-dir", str(out)]
        )
        == 2
    )
    assert f"{dataset / 'bonafide'}: no audio files" in capsys.readouterr().err
    assert not out.exists()
