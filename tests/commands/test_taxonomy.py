"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake taxonomy``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    debug_test,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# fmt: off
CASES = [
    # found while walking the commands as a new user
    Case("new: taxonomy of a file that is no CSV",
         lambda s: ["taxonomy", s.write("matrix.csv", b"\xff\xfe\x00\xa4 not text")],
         errors=(r"matrix\.csv: not a readable CSV file \(UnicodeDecodeError\); pass the "
                 r"cross_test_eer\.csv",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
