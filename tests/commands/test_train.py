"""The sweep (:mod:`tests.commands.sweep`) of ``train.py`` (the training command line,
:mod:`codecfake_cli.train`): every case's exit code, one-line error message and the user's files kept."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands.sweep import (
    REPO_ROOT,
    Case,
    Outcome,
    Sandbox,
    absent,
    bin_weights,
    both,
    debug_test,
    interrupted,
    no_code_ran,
    no_unsafe_advice,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _damaged_checkpoint_kept(sandbox: Sandbox, outcome: Outcome) -> None:
    """The damaged ``step_4`` was set aside as ``step_4.damaged``, byte for byte."""
    for path, digest in outcome.before.items():
        if path.startswith("run/checkpoints/step_4/"):
            assert outcome.after[path.replace("step_4/", "step_4.damaged/")] == digest, path
    assert "resumed from run/checkpoints/step_3" in outcome.out + outcome.err


def _cosine_reaches_the_floor(sandbox: Sandbox, outcome: Outcome) -> None:
    log = [json.loads(line) for line in (sandbox.root / "run" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and log[-1]["learning_rate"] == pytest.approx(5e-6, rel=1e-9)


def _one_report_from_the_launcher(sandbox: Sandbox, outcome: Outcome) -> None:
    """Two processes: both exit 2 (one may be stopped by the launcher first), the launcher reports it."""
    exit_codes = re.findall(r"exitcode\s*: (-?\d+)", outcome.err)
    assert "2" in exit_codes and set(exit_codes) <= {"2", "-15"}, outcome.err
    assert f'File "{REPO_ROOT / "train.py"}"' not in outcome.err  # no traceback from the training processes


def _checkpoints(sandbox: Sandbox) -> list[Path]:
    return sorted((sandbox.root / "run" / "checkpoints").iterdir())


def _pickle_in_every_checkpoint(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    for checkpoint in _checkpoints(sandbox):
        sandbox.plant(checkpoint / "custom_checkpoint_0.pkl")
    return sandbox.train_args("run", "--resume")


def _damaged_latest_checkpoint(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    optimizer = _checkpoints(sandbox)[-1] / "optimizer.bin"
    optimizer.write_bytes(optimizer.read_bytes()[:100])  # an interrupted copy
    return sandbox.train_args("run", "--resume")


def _every_checkpoint_damaged(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    for checkpoint in _checkpoints(sandbox):
        weights = checkpoint / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
    return sandbox.train_args("run", "--resume")


def _accelerate(launcher_options: list[str], train_args: list[str]) -> Callable[[Sandbox], list[str]]:
    def prepare(sandbox: Sandbox) -> list[str]:
        command, _ = sandbox.fixture("accelerate_launch")(launcher_options, train_args)
        return command

    return prepare


def _cosine_run(sandbox: Sandbox) -> list[str]:
    sandbox.fixture("write_labelled_folder")(sandbox.root / "data", per_class=5, samples=4000)
    sandbox.model("init")
    options = ["--dataset", "data", "--model", "init", "--epochs", "2", "--batch-size", "2", "--num-workers",
               "0", "--log-with", "none", "--learning-rate", "0.001", "--min-learning-rate", "0.000005",
               "--output-dir", "run"]  # fmt: skip
    return _accelerate(["--multi_gpu", "--num_processes", "2"], options)(sandbox)


def _checkpoint_kept(sandbox: Sandbox, outcome: Outcome) -> None:
    assert list((sandbox.root / "run" / "checkpoints").glob("step_*/progress.json")), outcome.err[-3000:]


def _interrupted_training(sandbox: Sandbox) -> list[str]:
    sandbox.fixture("write_labelled_folder")(sandbox.root / "data", per_class=4, samples=9000)
    return [sys.executable, str(REPO_ROOT / "train.py"), "--dataset", "data", "--model", "tiny", "--epochs", "100",
            "--batch-size", "2", "--num-workers", "0", "--log-with", "none", "--output-dir", "run"]  # fmt: skip


# fmt: off
CASES = [
    # 1. resuming runs nothing from a checkpoint (tests/training/test_resume_safety.py)
    Case("1 train.py --resume: a pickled object planted in every checkpoint is never run",
         _pickle_in_every_checkpoint, program="train.py", check=no_code_ran,
         errors=(r"no intact checkpoint to resume from in run/checkpoints: run/checkpoints/step_4/"
                 r"custom_checkpoint_0\.pkl: unexpected pickled object .*; restore it from a copy or remove "
                 r"this checkpoint$",)),
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 train.py into an earlier run without --resume replaces nothing",
         lambda s: s.train_args(s.run()), program="train.py",
         errors=(r"run: holds an earlier run \(best/, checkpoints/step_4\); nothing was changed: pass "
                 r"--resume to continue it, or choose another --output-dir for a new run$",)),
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 train.py --dataset that does not exist",
         lambda s: s.train_args("run", "--dataset", "no/such/folder"), program="train.py",
         errors=(r"no/such/folder: no such dataset folder \(relative to .*\); check the path",)),
    Case("4 train.py --epochs 0", lambda s: s.train_args("run", "--epochs", "0"), program="train.py",
         check=absent("run"), errors=(r"--epochs 0: must be at least 1$",)),
    Case("4 train.py --config-file with bad YAML",
         lambda s: s.train_args("run", "--config-file", s.write("e.yaml", "epochs: [2\n")),
         program="train.py",
         errors=(r"e\.yaml: not valid YAML \(.*line 1, column 9",)),
    # 5. a damaged latest checkpoint (tests/training/test_resume_safety.py)
    Case("5 train.py --resume falls back from a damaged latest checkpoint and keeps it",
         _damaged_latest_checkpoint, code=0, program="train.py", may_change=("run/*",),
         check=_damaged_checkpoint_kept),
    Case("5 train.py --resume with every checkpoint damaged", _every_checkpoint_damaged, program="train.py",
         errors=(r"no intact checkpoint to resume from in run/checkpoints: run/checkpoints/step_4/"
                 r"model\.safetensors: not a readable safetensors file",)),
    # 6. a --model path that does not exist is no Hub id to retry (tests/commands/test_user_errors.py)
    Case("6 train.py --model models/aasist-l", lambda s: s.train_args("run", "--model", "models/aasist-l"),
         program="train.py", errors=(r"models/aasist-l: no such model folder",)),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.9/13 train.py --model with a refused pytorch_model.bin: one line, no --output-dir",
         lambda s: s.train_args("run", "--model", bin_weights(s, name="init")), program="train.py",
         check=both(no_code_ran, no_unsafe_advice, absent("run")),
         errors=(r"init/pytorch_model\.bin: cannot be loaded safely \(UnpicklingError",)),
    Case("22.13 train.py --batch-size larger than the data leaves no --output-dir",
         lambda s: s.train_args("run", "--batch-size", "64"), program="train.py", check=absent("run"),
         errors=(r"fewer than one batch \(64 per process\); lower --batch-size$",)),
    # slow: fresh processes, several processes, 10-minute files
    Case("slow 1 train.py --resume in a fresh process never runs a planted pickle",
         lambda s: [sys.executable, str(REPO_ROOT / "train.py"), *_pickle_in_every_checkpoint(s)],
         runner="process", program="train.py", check=no_code_ran, slow=True,
         errors=(r"no intact checkpoint to resume from in run/checkpoints: .*unexpected pickled object",)),
    Case("slow 4 accelerate launch -q (one process): train.py's line, no launcher traceback",
         _accelerate(["-q", "--cpu", "--num_processes", "1"], ["--dataset", "no/such/folder"]), code=1,
         runner="process", program="train.py", slow=True,
         errors=(r"no/such/folder: no such dataset folder",)),
    Case("slow 4 accelerate launch, two processes: one line from the main process, the launcher's report",
         _accelerate(["--multi_gpu", "--num_processes", "2"], ["--dataset", "no/such/folder"]), code=1,
         runner="process", program="train.py", launcher_traceback=True, check=_one_report_from_the_launcher,
         slow=True, errors=(r"no/such/folder: no such dataset folder",)),
    Case("slow 10 the cosine schedule ends at --min-learning-rate with two processes", _cosine_run, code=0,
         runner="process", program="train.py", check=_cosine_reaches_the_floor, slow=True),
    Case("slow 22.12 train.py interrupted (Ctrl-C): one line, exit 130, checkpoints kept",
         _interrupted_training, code=130, runner="process", program="train.py", interrupt_when="epoch 2/100",
         check=both(interrupted("train.py", "the checkpoints under run are kept; rerun the same command with "
                                  "--resume to continue from the latest one (a run without one starts afresh)"),
                     _checkpoint_kept), slow=True),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
