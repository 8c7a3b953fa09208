"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake demo``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    absent,
    debug_test,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# fmt: off
CASES = [
    # found while walking the commands as a new user
    Case("new: demo --epochs 0 stops before building anything",
         lambda s: ["demo", "--out", "demo", "--epochs", "0"], check=absent("demo"),
         errors=(r"--epochs 0: must be at least 1$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
