"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake push``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import pytest

from tests.commands.sweep import (
    Case,
    Sandbox,
    built_dataset,
    debug_test,
    online,
    sweep_test,
    token_never_printed,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _edited_card(sandbox: Sandbox) -> str:
    folder = built_dataset(sandbox)
    card = sandbox.root / folder / "README.md"
    card.write_text(card.read_text() + "\nMy own notes.\n")
    return folder


# fmt: off
CASES = [
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 push offline keeps an edited dataset card",
         lambda s: ["push", _edited_card(s), "--repo", "org/codecfake"],
         errors=(r"HF_HUB_OFFLINE is set: unset it on a machine with network access to push$",)),
    Case("2/9 push: an invalid dataset repo id says so (not 'rerun to resume')",
         online(lambda s: ["push", _edited_card(s), "--repo", "org/bad..name"]), check=token_never_printed,
         errors=(r"'org/bad\.\.name' is not a valid Hub dataset repo id \(.*\); use ORG/NAME$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
