"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake push-model``: every case's exit code, one-line
error message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    Sandbox,
    absent,
    debug_test,
    online,
    sweep_test,
    token_never_printed,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _push_model(sandbox: Sandbox, repo: str) -> list[str]:
    return ["push-model", sandbox.detector(), "--repo", repo, "--write-card", "--dataset-id", "org/cf"]


def _bad_eer_csv(sandbox: Sandbox) -> list[str]:
    sandbox.model("best")
    eer_csv = sandbox.write("eer.csv", "test_set,threshold\nE,0.1\n")
    return ["push-model", "best", "--repo", "org/x", "--eer-csv", eer_csv]


# fmt: off
CASES = [
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 push-model offline keeps README.md",
         lambda s: ["push-model", s.detector(), "--repo", "org/aasist-l-c"],
         errors=(r"HF_HUB_OFFLINE is set: unset it on a machine with network access to push$",)),
    Case("2 push-model with the Hub unreachable keeps README.md and never prints the token",
         online(lambda s: _push_model(s, "org/aasist-l-c")), check=token_never_printed,
         errors=(r"cannot reach http://127\.0\.0\.1:\d+ \(ConnectError\): check the network or proxy, then "
                 r"rerun$",)),
    Case("2/9 push-model: an invalid repo id says so (not 'rerun to resume')",
         online(lambda s: _push_model(s, "org/bad..name")), check=token_never_printed,
         errors=(r"'org/bad\.\.name' is not a valid Hub model repo id \(.*\); use ORG/NAME$",)),
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 push-model --eer-csv without an eer column writes no card", _bad_eer_csv,
         check=absent("best/README.md"),
         errors=(r"eer\.csv: no 'eer' column \(columns: threshold\); pass the eer\.csv that `codecfake "
                 r"evaluate --output-dir` writes",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
