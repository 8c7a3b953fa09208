"""The sweep (:mod:`tests.commands.sweep`) of the set-up commands of the README: every case's exit code,
one-line error message and the user's files kept."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.commands.sweep import (
    Case,
    Sandbox,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _readme_test_command_in_a_new_shell(sandbox: Sandbox) -> Callable[[], None]:
    """The README's test command, verbatim, in a bash with a stock PATH (nothing activated), in a clone
    whose ``.venv/bin/python`` is this interpreter and whose one test checks the offline setting."""
    from tests.test_setup_commands import readme_parts

    interpreter = sandbox.root / sandbox.write(
        ".venv/bin/python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
    )
    interpreter.chmod(0o755)
    sandbox.write(
        "test_offline.py",
        "import os\n\n\ndef test_offline():\n    assert os.environ['HF_HUB_OFFLINE'] == '1'\n",
    )
    (command,) = readme_parts()["2"]

    def run() -> None:
        shell = subprocess.run(["bash", "--noprofile", "--norc", "-c", command], cwd=sandbox.root, text=True,
                               capture_output=True, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(sandbox.root)})  # fmt: skip
        assert shell.returncode == 0 and "1 passed" in shell.stdout, shell.stdout + shell.stderr

    return run


# fmt: off
CASES = [
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.15 the README's test command runs verbatim in a new shell", _readme_test_command_in_a_new_shell,
         code=0, program="python", runner="call"),
]
# fmt: on

test_sweep = sweep_test(CASES)
