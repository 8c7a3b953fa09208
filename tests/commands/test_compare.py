"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake compare``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    absent,
    built_dataset,
    debug_test,
    labelled_folder,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# fmt: off
CASES = [
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 compare a folder that is not a dataset (bonafide/ + spoof/)",
         lambda s: ["compare", built_dataset(s), labelled_folder(s), "--output-dir", "cmp"], check=absent("cmp"),
         errors=(r"IMPORTED set: not a dataset folder \(no README\.md listing configs:\); pass a folder written "
                 r"by `codecfake build` or `codecfake import`$",)),
    Case("4 compare --subsets naming a subset one side lacks",
         lambda s: ["compare", built_dataset(s), built_dataset(s, "release"), "--subsets", "E",
                    "--output-dir", "cmp"], check=absent("cmp"),
         errors=(r"BUILT codecfake: no subset E \(its subsets: bonafide\); leave it out of --subsets, or build "
                 r"/ import it$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
