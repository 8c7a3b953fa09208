"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake evaluate``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    absent,
    bin_weights,
    both,
    built_dataset,
    debug_test,
    labelled_folder,
    labelled_folder_with_a_broken_file,
    no_code_ran,
    no_unsafe_advice,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _unreadable_trial_left_out(sandbox: Sandbox, outcome: Outcome) -> None:
    scores = pd.read_csv(sandbox.root / "eval" / "scores_set.csv", keep_default_na=False)
    assert (scores["error"] == "").sum() == 6  # every readable clip was scored
    assert "cannot decode audio" in scores.set_index("utterance_id").at["bonafide/broken.wav", "error"]


def _neither_is_better(sandbox: Sandbox, outcome: Outcome) -> None:
    summary = pd.read_csv(sandbox.root / "eval" / "eer.csv", index_col=0)
    assert summary.at["set", "better"] == "neither" and not summary.at["set", "significant"]


def _disk_full_evaluate(sandbox: Sandbox) -> list[str]:
    return [sys.executable, "-m", "codecfake_cli", "evaluate", "--model", sandbox.model(), "--dataset",
            labelled_folder(sandbox), "--output-dir", "eval"]  # fmt: skip


def _read_only_out(sandbox: Sandbox) -> list[str]:
    folder = sandbox.fixture("read_only_folder")
    return ["evaluate", "--model", sandbox.model(), "--dataset", labelled_folder(sandbox), "--output-dir",
            f"{folder}/eval"]  # fmt: skip


# fmt: off
CASES = [
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 evaluate --output-dir in a read-only folder", _read_only_out,
         errors=(r"read-only/eval: permission denied; check its permissions or choose another location$",)),
    Case("4 evaluate on a full disk (a file size limit) names the output folder", _disk_full_evaluate,
         runner="process", file_size_limit=300,
         errors=(r"while writing eval: file too large for this file system or the file size limit "
                 r"\(ulimit -f\); choose another location, then rerun$",)),
    Case("4 evaluate --configs naming a config the dataset lacks",
         lambda s: ["evaluate", "--model", s.model(), "--dataset", built_dataset(s), "--configs", "Z",
                    "--output-dir", "eval"], check=absent("eval"),
         errors=(r"codecfake: no config Z in this dataset \(its configs: default, bonafide\); choose from "
                 r"those \(--subsets\) or build the missing ones",)),
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 evaluate scores the readable files and reports the unreadable one",
         lambda s: ["evaluate", "--model", s.model(), "--dataset", labelled_folder_with_a_broken_file(s),
                    "--output-dir", "eval"], check=_unreadable_trial_left_out, raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped \(listed above and in the error column of "
                 r"scores_<set>\.csv under eval\); the EERs leave them out$",)),
    Case("10 evaluate --against: no significant difference is 'neither'",
         lambda s: ["evaluate", "--model", s.model(), "--against", "model", "--dataset", labelled_folder(s),
                    "--output-dir", "eval"], code=0, check=_neither_is_better),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.9 evaluate with a pytorch_model.bin that weights_only loading refuses runs nothing",
         lambda s: ["evaluate", "--model", bin_weights(s), "--dataset", labelled_folder(s), "--output-dir", "eval"],
         check=both(no_code_ran, no_unsafe_advice, absent("eval")),
         errors=(r"model/pytorch_model\.bin: cannot be loaded safely \(UnpicklingError: refused by weights_only "
                 r"loading: .*\(nothing in it was run\); re-save the model as safetensors",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
