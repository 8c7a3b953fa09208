"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake vctk`` (and the zip extraction of its download):
every case's exit code, one-line error message and the user's files kept."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable

import pytest

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    absent,
    debug_test,
    sweep_test,
    vctk_folder,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _counts_leave_out_the_broken_file(sandbox: Sandbox, outcome: Outcome) -> None:
    assert "| train | 1 | 42752 | 1 | 103 |" in outcome.out  # p225_001 only: p225_002 cannot be decoded
    assert "left out, cannot be decoded (as in codecfake build): 1" in outcome.out
    assert "p225_002_mic1.flac: cannot decode audio" in outcome.out


def _symlink_zip(sandbox: Sandbox) -> Callable[[], None]:
    from dataset_builder.corpora.vctk import extract_zip

    link = zipfile.ZipInfo("VCTK/txt")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(sandbox.root / "VCTK.zip", "w") as archive:
        archive.writestr("VCTK/speaker-info.txt", "ID\n")
        archive.writestr(link, "/tmp")
        archive.writestr("VCTK/txt/p225/p225_001.txt", "hello")
    return lambda: extract_zip(sandbox.root / "VCTK.zip", sandbox.root / "corpus")


def _moved_aside(name: str, aside: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert outcome.after[aside] == outcome.before[name] and name not in outcome.after

    return check


# fmt: off
CASES = [
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 extract_zip: a symbolic link member with a file under it", _symlink_zip, program="python",
         runner="call", check=absent("corpus"), errors=(r"VCTK\.zip: .*symbolic link member 'VCTK/txt'",)),
    Case("10 codecfake vctk counts what the build counts",
         lambda s: ["vctk", vctk_folder(s, broken=True)], code=0, check=_counts_leave_out_the_broken_file),
    # found while walking the commands as a new user
    Case("new: codecfake vctk --download onto a file",
         lambda s: ["vctk", "--download", s.write("VCTK", "a file, not a folder")],
         errors=(r"VCTK: already exists; remove it or choose another path$",)),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.10 vctk --download with a wrong zip put in place moves it aside",
         lambda s: ["vctk", "--download", s.write("dl/VCTK-Corpus-0.92.zip", b"PK not the corpus") and "dl"],
         may_change=("dl/VCTK-Corpus-0.92.zip",),
         check=_moved_aside("dl/VCTK-Corpus-0.92.zip", "dl/VCTK-Corpus-0.92.zip.rejected"),
         errors=(r"dl/VCTK-Corpus-0\.92\.zip: is 17 bytes instead of 11747302977, not the expected zip; moved it "
                 r"to dl/VCTK-Corpus-0\.92\.zip\.rejected \(nothing was deleted\); rerun to download the zip",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)


def test_without_a_corpus_or_a_download_it_says_what_to_pass(capsys):
    """``codecfake vctk`` alone is a usage error, exit 2, as ``python -m dataset_builder.vctk`` was."""
    from codecfake_cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["vctk"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "codecfake vctk: error: pass a corpus folder or --download DIR"
    )
