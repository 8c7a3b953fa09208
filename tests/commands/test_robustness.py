"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake robustness``: every case's exit code, one-line
error message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    debug_test,
    labelled_folder,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# fmt: off
CASES = [
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 RobustnessError is a user error",
         lambda s: ["robustness", labelled_folder(s), "--model", s.model(), "--out", "r", "--conditions", "mp3-7"],
         errors=(r"unsupported condition\(s\) mp3-7; supported: clean, mp3-16, .*, g711-8k$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
