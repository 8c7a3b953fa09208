"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake matrix``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    absent,
    built_dataset,
    debug_test,
    labelled_folder,
    labelled_folder_with_a_broken_file,
    sweep_test,
    written,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _heatmap_titled(sandbox: Sandbox, outcome: Outcome) -> None:
    from tests.evaluation.test_tables import visible_texts

    assert list(pd.read_csv(sandbox.root / "mx" / "cross_test_eer.csv", index_col=0).index) == ["E-a", "E-b"]
    (figure,) = sandbox.figures
    texts = visible_texts(figure)
    assert "cross-test EER (%)" in texts and all(texts.values()), texts


def _same_config_twice(sandbox: Sandbox) -> list[str]:
    for run in ("run_a", "run_b"):  # two trainings on config E
        sandbox.model(f"{run}/best")
        sandbox.write(f"{run}/best/training_config.json", json.dumps({"config": "E"}))
    return ["matrix", "--models", "run_a/best", "run_b/best", "--dataset", labelled_folder(sandbox), "--output-dir",
            "mx"]  # fmt: skip


def _named_twice(sandbox: Sandbox) -> list[str]:
    import matplotlib.pyplot as plt

    _same_config_twice(sandbox)
    sandbox.fixture("monkeypatch").setattr(plt, "close", sandbox.figures.append)  # keep the heatmap
    return ["matrix", "--models", "E-a=run_a/best", "E-b=run_b/best", "--dataset", "set", "--output-dir",
            "mx"]  # fmt: skip


# fmt: off
CASES = [
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 matrix --subsets NAME/SUBSET for a dataset no --dataset names",
         lambda s: ["matrix", "--models", s.model(), "--dataset", f"one={built_dataset(s)}", "--dataset",
                    f"two={built_dataset(s, 'other')}", "--subsets", "three/E", "--output-dir", "m"],
         check=absent("m/scores"),
         errors=(r"--subsets three/E: no --dataset is named 'three' \(names: one, two\); write NAME/SUBSET "
                 r"with one of those, or SUBSET for every dataset$",)),
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 matrix refuses two models trained on one config", _same_config_twice, check=absent("mx/scores"),
         errors=(r"run_a/best and run_b/best would both be named 'E' \(one row\), but they are not seed "
                 r"replicas of one training \(both were trained with seed 1234\); name each one as NAME=PATH",)),
    Case("10 matrix with NAME=PATH, and a heatmap title inside the figure", _named_twice, code=0,
         check=_heatmap_titled),
    # found while walking the commands as a new user
    Case("new: matrix reports unreadable files as evaluate does",
         lambda s: ["matrix", "--models", s.model(), "--dataset", labelled_folder_with_a_broken_file(s),
                    "--output-dir", "mx"],
         check=written("mx/cross_test_eer.csv", "mx/cross_test_eer.png"), raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped .* under mx/scores\)",)),
    Case("new: matrix checks every model before scoring any",
         lambda s: ["matrix", "--models", s.model(), "models/aasist-l", "--dataset", labelled_folder(s),
                    "--output-dir", "mx"],
         check=absent("mx/scores"), errors=(r"models/aasist-l: no such model folder",)),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.14 matrix given one model folder twice refuses the duplicate",
         lambda s: ["matrix", "--models", s.model(), "./model/", "--dataset", labelled_folder(s), "--output-dir", "mx"],
         check=absent("mx"),
         errors=(r"\./model/: one model given twice \(as model and as \./model/\); list each model once$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
