"""``codecfake matrix`` with test sets from several datasets (``--dataset NAME=DIR`` repeated): two tiny
builds of two synthetic corpora that share every utterance id but not the audio, and a bonafide/ + spoof/
folder. Each cell must be what ``codecfake evaluate`` gives for that model on that dataset and subset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from codecfake_cli.main import main
from codecfake_hf.evaluation import tables
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

pytestmark = pytest.mark.usefixtures("one_thread")

SPEAKERS = ("p225", "p227", "p228")  # p227 and p228 are the test speakers


def _build(root: Path, seed: int, subsets: list[str]) -> Path:
    corpus = make_synthetic_vctk(root / "vctk", speakers=SPEAKERS, utterances_per_speaker=2, seconds=(0.3, 0.5),
                                 seed=seed)  # fmt: skip
    build_codecfake(
        corpus, root / "codecfake", subsets, BuildOptions(tiny=True, shard_size=100, batch_size=4)
    )
    return root / "codecfake"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """E and F3 over one corpus."""
    return _build(tmp_path_factory.mktemp("release"), seed=0, subsets=["E", "F3"])


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    """E over another corpus: the same utterance ids and codec as ``release``, other audio."""
    return _build(tmp_path_factory.mktemp("other"), seed=1, subsets=["E"])


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, write_labelled_folder) -> Path:
    return write_labelled_folder(tmp_path_factory.mktemp("zero_shot") / "valle", per_class=3, samples=4800)


@pytest.fixture(scope="module")
def models(tiny_aasist_dir, tmp_path_factory) -> dict[str, Path]:
    """Two tiny random AASISTs, one trained (so its training_config.json says) on E, one on F3."""
    import torch

    from codecfake_hf.models.aasist import AasistConfig, AasistFeatureExtractor, AasistForAudioClassification

    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_aasist_dir, root / "E")
    torch.manual_seed(1)
    config = AasistConfig.from_preset("tiny")
    AasistForAudioClassification(config).eval().save_pretrained(root / "F3")
    AasistFeatureExtractor(num_samples=config.num_samples).save_pretrained(root / "F3")
    for subset in ("E", "F3"):
        (root / subset / "training_config.json").write_text(json.dumps({"subset": subset}))
    return {subset: root / subset for subset in ("E", "F3")}


def _matrix(models: dict[str, Path], out: Path, *options: str) -> int:
    return main(["matrix", "--models", *map(str, models.values()), "--output-dir", str(out), *options])


def _evaluate(model: Path, dataset: Path, subset: str | None, out: Path) -> pd.DataFrame:
    subsets = ["--subsets", subset] if subset else []
    assert (
        main(
            ["evaluate", "--model", str(model), "--dataset", str(dataset), *subsets, "--output-dir", str(out)]
        )
        == 0
    )
    return pd.read_csv(out / "metrics.csv", index_col=0)


def test_each_cell_is_evaluate_on_that_dataset_and_subset(release, other, labelled, models, tmp_path):
    out = tmp_path / "matrix"
    datasets = [
        "--dataset",
        f"release={release}",
        "--dataset",
        f"other={other}",
        "--dataset",
        f"valle={labelled}",
    ]
    assert _matrix(models, out, *datasets) == 0
    matrix = pd.read_csv(out / "cross_test_eer.csv", index_col=0)
    assert list(matrix.index) == ["E", "F3"]
    assert list(matrix.columns) == ["release/E", "release/F3", "other/E", "valle"]
    metrics = pd.read_csv(out / "cross_test_metrics.csv", index_col=[0, 1])
    compared = ["eer", "min_dcf", "act_dcf", "cllr", "min_cllr"]
    cells = {("release", "E"): (release, "E"), ("release", "F3"): (release, "F3"), ("other", "E"): (other, "E"),
             ("valle", None): (labelled, None)}  # fmt: skip
    for row, model in models.items():
        for (name, subset), (dataset, config) in cells.items():
            column = f"{name}/{subset}" if subset else name
            expected = _evaluate(model, dataset, config, tmp_path / "evaluate" / row / column)
            test_set = config or dataset.name
            assert metrics.loc[(row, column), compared].to_numpy(float) == pytest.approx(
                expected.loc[test_set, compared].to_numpy(float)
            ), (row, column)
            assert matrix.at[row, column] == pytest.approx(100 * expected.at[test_set, "eer"], abs=0.005)
            scores = pd.read_csv(out / "scores" / name / row / f"scores_{test_set}.csv")
            by_evaluate = pd.read_csv(tmp_path / "evaluate" / row / column / f"scores_{test_set}.csv")
            pd.testing.assert_frame_equal(scores, by_evaluate)  # the other corpus's audio, not a cached score
    side_by_side = pd.read_csv(out / "cross_test_vs_paper.csv")
    lined_up = side_by_side[(side_by_side["row"] == "E") & (side_by_side["column"] == "other/E")].iloc[0]
    assert lined_up["paper"] == tables.paper_cross_test().at["E", "E"]
    assert set(side_by_side["column"]) == {"release/E", "release/F3", "other/E"}  # valle is no paper column
    assert (out / "cross_test_eer.png").is_file()


def test_subsets_per_dataset(release, other, models, tmp_path, capsys):
    datasets = ["--dataset", f"release={release}", "--dataset", f"other={other}"]
    out = tmp_path / "matrix"
    assert _matrix(models, out, *datasets, "--subsets", "E,release/F3", "--metric", "min_dcf") == 0
    assert list(pd.read_csv(out / "cross_test_eer.csv", index_col=0).columns) == ["release/F3", "other/E"]
    shown = pd.read_csv(out / "cross_test_min_dcf.csv", index_col=0)
    assert list(shown.columns) == ["release/F3", "other/E"] and shown.notna().all().all()
    assert _matrix(models, tmp_path / "named", f"--dataset=release={release}", "--subsets", "F3") == 0
    assert list(pd.read_csv(tmp_path / "named" / "cross_test_eer.csv", index_col=0).columns) == ["release/F3"]
    assert _matrix(models, tmp_path / "bare", "--dataset", str(release)) == 0  # one bare --dataset: as before
    assert list(pd.read_csv(tmp_path / "bare" / "cross_test_eer.csv", index_col=0).columns) == ["E", "F3"]
    assert (tmp_path / "bare" / "scores" / "E" / "scores_E.csv").is_file()
    capsys.readouterr()
    assert _matrix(models, tmp_path / "x", *datasets, "--subsets", "E,third/E") == 2
    error = capsys.readouterr().err
    assert "--subsets third/E: no --dataset is named 'third' (names: release, other)" in error
    assert _matrix(models, tmp_path / "x", *datasets, "--subsets", "other/F3") == 2
    assert f"{other}: no config F3 in this dataset" in capsys.readouterr().err
    assert _matrix(models, tmp_path / "x", "--dataset", str(release), "--dataset", f"codecfake={other}") == 2
    assert f"{release} and {other} would both be named 'codecfake' (one dataset)" in capsys.readouterr().err
    assert not (tmp_path / "x" / "scores").exists()  # refused before anything was scored


def test_all_takes_an_imported_corpus_s_own_configs(release, models, tmp_path):
    """A corpus whose configs are no registry id (an imported attack list, say ``A07``): ``all`` takes
    every config with rows of its own, not ``default`` nor ``bonafide``."""
    attacks = shutil.copytree(release, tmp_path / "attacks")
    (attacks / "data" / "F3").rename(attacks / "data" / "A07")
    card = (attacks / "README.md").read_text()
    (attacks / "README.md").write_text(
        card.replace("data/F3/", "data/A07/").replace("config_name: F3", "config_name: A07")
    )
    out = tmp_path / "matrix"
    assert _matrix(models, out, "--dataset", f"release={release}", "--dataset", f"la={attacks}") == 0
    columns = list(pd.read_csv(out / "cross_test_eer.csv", index_col=0).columns)
    assert columns == ["release/E", "release/F3", "la/E", "la/A07"]
    scores = pd.read_csv(out / "scores" / "la" / "F3" / "scores_A07.csv")
    assert set(scores["label"]) == {0, 1} and (scores["error"].isna()).all()


def test_seed_replicas_over_several_datasets(release, other, models, tmp_path):
    runs = []
    for seed, source in ((1, models["E"]), (2, models["F3"])):  # two E runs that differ in the seed only
        run = shutil.copytree(source, tmp_path / f"seed-{seed}")
        (run / "training_config.json").write_text(json.dumps({"subset": "E", "seed": seed}))
        runs.append(str(run))
    out = tmp_path / "matrix"
    argv = ["matrix", "--models", *runs, "--dataset", f"release={release}", "--dataset", f"other={other}",
            "--subsets", "E", "--output-dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    seeds = pd.read_csv(out / "cross_test_eer_seeds.csv")
    assert list(seeds["test"]) == ["release/E", "other/E"] and (seeds["n"] == 2).all()
    matrix = pd.read_csv(out / "cross_test_eer.csv", index_col=0)
    assert matrix.loc["E"].to_numpy() == pytest.approx(seeds["mean_eer_%"].to_numpy(), abs=0.01)
