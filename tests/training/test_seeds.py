"""Variance over seeds: ``train.py --seeds`` writes one normal, resumable run folder per seed, and
``codecfake matrix`` puts seed replicas of one training in one row (mean ± sample sd per cell), while
still refusing models that only share a name."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file

from codecfake_cli.main import main
from codecfake_hf.training.config import TrainingConfig
from codecfake_hf.training.replicas import seed_statistics


@pytest.fixture(scope="module")
def seeds(tmp_path_factory, write_labelled_folder, train_script):
    """Tiny AASIST trained with ``--seeds 1,2`` (``root/runs/seed-{1,2}``) and once more with seed 3 and
    another learning rate (``root/other``), on one labelled folder ``root/data``."""
    root = tmp_path_factory.mktemp("seeds")
    write_labelled_folder(root / "data", per_class=4, samples=9000)
    workspace = SeedRuns(root, train_script)
    assert workspace.run("runs", "--seeds", "1,2") == 0
    assert workspace.run("other", "--seed", "3", "--learning-rate", "1e-4") == 0
    return workspace


class SeedRuns:
    """A folder of tiny training runs; ``/`` joins paths below it."""

    def __init__(self, root: Path, script) -> None:
        self.root, self.script = root, script

    def __truediv__(self, name: str) -> Path:
        return self.root / name

    def run(self, output_dir: str, *extra: str) -> int:
        """``train.py`` in this process: tiny AASIST, one epoch of 2 steps, into ``root/output_dir``."""
        return self.script.main(["--dataset", str(self.root / "data"), "--model", "tiny", "--epochs", "1",
                                 "--batch-size", "2", "--max-train-samples", "4", "--num-workers", "0",
                                 "--log-with", "none", "--output-dir", str(self.root / output_dir), *extra])  # fmt: skip


def test_seeds_write_one_run_folder_per_seed(seeds, capsys):
    runs = seeds / "runs"
    assert sorted(p.name for p in runs.iterdir()) == ["seed-1", "seed-2"]
    for seed in (1, 2):
        saved = TrainingConfig.load(runs / f"seed-{seed}" / "best")
        assert saved.seed == seed and saved.output_dir == str(runs / f"seed-{seed}")
    first, second = (load_file(runs / f"seed-{seed}" / "best" / "model.safetensors") for seed in (1, 2))
    assert any(not first[key].equal(second[key]) for key in first)  # another initialisation and data order
    logs = {seed: (runs / f"seed-{seed}" / "log.jsonl").read_text() for seed in (1, 2)}
    capsys.readouterr()
    # a second start is refused before anything runs; --resume finds both runs finished
    assert seeds.run("runs", "--seeds", "1,2") == 2
    assert "seed-1: holds an earlier run" in capsys.readouterr().err
    assert seeds.run("runs", "--seeds", "1,2", "--resume") == 0
    assert logs == {seed: (runs / f"seed-{seed}" / "log.jsonl").read_text() for seed in (1, 2)}


def test_repeated_seeds_are_refused(seeds, capsys):
    assert seeds.run("repeated", "--seeds", "1,1") == 2
    assert "--seeds 1,1: give distinct seeds" in capsys.readouterr().err


def _matrix(seeds, out: str, *models: str) -> int:
    return main(
        ["matrix", "--models", *models, "--dataset", str(seeds / "data"), "--output-dir", str(seeds / out)]
    )


def test_matrix_averages_seed_replicas(seeds, capsys):
    runs = [str(seeds / "runs" / f"seed-{seed}" / "best") for seed in (1, 2)]
    assert _matrix(seeds, "apart", f"one={runs[0]}", f"two={runs[1]}") == 0
    apart = pd.read_csv(seeds / "apart" / "cross_test_eer.csv", index_col=0)["data"]
    assert not (seeds / "apart" / "cross_test_eer_seeds.csv").exists()  # no replicas, no seed table
    capsys.readouterr()
    assert _matrix(seeds, "together", *runs) == 0
    matrix = pd.read_csv(seeds / "together" / "cross_test_eer.csv", index_col=0)
    assert list(matrix.index) == ["E"] and list(matrix.columns) == ["data"]
    assert matrix.at["E", "data"] == pytest.approx(apart.mean(), abs=0.01)
    table = pd.read_csv(seeds / "together" / "cross_test_eer_seeds.csv")
    assert list(table.columns) == ["train", "test", "n", "mean_eer_%", "sd_eer_%"]
    assert table.loc[0, ["train", "test", "n"]].tolist() == ["E", "data", 2]
    assert table.at[0, "sd_eer_%"] == pytest.approx(statistics.stdev(apart), abs=0.01)
    assert "± " in capsys.readouterr().out
    assert (seeds / "together" / "scores" / "E" / "seed-1" / "eer.csv").is_file()


def test_matrix_still_refuses_models_that_only_share_a_name(seeds, capsys):
    seed_1 = str(seeds / "runs" / "seed-1" / "best")
    assert _matrix(seeds, "clash", seed_1, str(seeds / "other" / "best")) == 2
    error = capsys.readouterr().err
    assert (
        "not seed replicas of one training (they differ in learning_rate)" in error and "NAME=PATH" in error
    )
    assert (
        _matrix(seeds, "twice", seed_1, seed_1) == 2
    )  # one model twice: no pair to name (issue 22, item 14)
    assert f"{seed_1}: one model given twice; list each model once" in capsys.readouterr().err


def test_seed_statistics_are_mean_and_sample_sd():
    rows = {"E": {"E/seed-1": "a", "E/seed-2": "b", "E/seed-3": "c"}, "A": {"A": "d"}}
    eers = {"E/seed-1": {"E": 0.1}, "E/seed-2": {"E": 0.2}, "E/seed-3": {"E": 0.3}, "A": {"E": 0.05}}
    table = seed_statistics(rows, eers).set_index("train")
    assert table.at["E", "n"] == 3
    assert table.at["E", "mean"] == pytest.approx(0.2) and table.at["E", "sd"] == pytest.approx(0.1)
    assert table.at["A", "n"] == 1 and table.at["A", "mean"] == 0.05 and math.isnan(table.at["A", "sd"])
