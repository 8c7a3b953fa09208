"""Files the project writes are complete or absent: a write that fails half-way (a full disk) leaves
the earlier file as it was and no temporary file behind; each write has a temporary file of its own,
made as any new file is, and nothing of the user's (``config.json.tmp``) is touched."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from codecfake_cli.main import main
from codecfake_hf.files.atomic_files import TEMPORARY_NAME, atomic_path, leftovers, remove_leftovers

pytestmark = pytest.mark.usefixtures("one_thread")


def _is_for(path, name: str) -> bool:
    """Whether ``path`` is the file ``name`` or a temporary file of :func:`atomic_path` for it."""
    match = TEMPORARY_NAME.fullmatch(Path(path).name)
    return Path(path).name == name or (match is not None and match.group(1) == name)


def _disk_full_after_half(monkeypatch, name: str) -> None:
    """``DataFrame.to_csv`` to a file called ``name`` (or a temporary file for it) writes half a
    table, then fails as a full disk does; other tables are written."""
    to_csv = pd.DataFrame.to_csv

    def half_then_full(frame, path=None, *args, **kwargs):
        if path is not None and _is_for(path, name):
            Path(path).write_text(to_csv(frame, None, *args, **kwargs)[:20])
            raise OSError(errno.ENOSPC, "No space left on device")
        return to_csv(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_full)


@pytest.mark.parametrize("name", ["eer.csv", "scores_set.csv"])
def test_evaluate_on_a_full_disk_keeps_the_earlier_results(
    tmp_path, write_labelled_folder, tiny_aasist_dir, monkeypatch, capsys, name
):
    dataset = write_labelled_folder(tmp_path / "set", per_class=2, samples=4800)
    out = tmp_path / "eval"
    command = [
        "evaluate",
        "--model",
        str(tiny_aasist_dir),
        "--dataset",
        str(dataset),
        "--output-dir",
        str(out),
    ]
    assert main(command) == 0
    earlier = (out / name).read_bytes()
    _disk_full_after_half(monkeypatch, name)
    assert main(command) == 2
    assert (
        f"codecfake evaluate: error: while writing {out}: no space left on the device"
        in capsys.readouterr().err
    )
    assert (out / name).read_bytes() == earlier and not leftovers(out)


def test_atomic_path_replaces_the_file_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("earlier")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "earlier" and not temporary.exists()
    with atomic_path(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new" and not temporary.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["table.csv"]


def test_a_file_of_the_users_named_like_the_old_temporary_is_never_touched(tmp_path):
    """``config.json.tmp`` used to be the writer's own temporary file: overwritten, then deleted when
    a write failed. Now the user's file of that name stays as it is, through failures and successes."""
    target, users = tmp_path / "config.json", tmp_path / "config.json.tmp"
    users.write_text("my notes")
    with pytest.raises(OSError), atomic_path(target) as temporary:
        temporary.write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device")
    with atomic_path(target) as temporary:
        temporary.write_text("{}")
    assert users.read_text() == "my notes" and target.read_text() == "{}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json", "config.json.tmp"]


def test_two_writers_of_one_file_do_not_share_a_temporary_file(tmp_path):
    """Two writers at work on one target at once (two processes saving the same card): each writes
    its own temporary file, neither removes or overwrites the other's, and the target ends whole (the
    last one renamed)."""
    target = tmp_path / "README.md"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        assert {TEMPORARY_NAME.fullmatch(p.name).group(1) for p in (first, second)} == {"README.md"}
        first.write_text("first " * 1000)
        second.write_text("second")
        assert set(leftovers(tmp_path)) == {first, second}
    assert target.read_text() == "first " * 1000  # the outer block finished last
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.md"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_mode(tmp_path, umask):
    """A new file is made as ``open()`` makes one (0o666 less the umask), not with the 0o600 of
    ``tempfile.mkstemp``; a file that is replaced keeps the permissions its owner gave it."""
    earlier = os.umask(umask)
    try:
        with atomic_path(tmp_path / "new.json") as temporary:
            temporary.write_text("{}")
        private, read_only = tmp_path / "private.json", tmp_path / "read-only.json"
        for path, mode in ((private, 0o600), (read_only, 0o444)):
            path.write_text("{}")
            path.chmod(mode)
            with atomic_path(path) as temporary:
                temporary.write_text("[]")
    finally:
        os.umask(earlier)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_text() == "[]"
    assert stat.S_IMODE(read_only.stat().st_mode) == 0o444 and read_only.read_text() == "[]"


def test_remove_leftovers_removes_only_temporary_files_of_the_named_targets(tmp_path):
    """What a killed writer leaves is ``.<name>.<8 hex>.tmp``; the user's look-alikes stay."""
    ours = [tmp_path / ".README.md.0123abcd.tmp", tmp_path / ".build_report.json.deadbeef.tmp"]
    other_target = tmp_path / ".eer.csv.0123abcd.tmp"
    users = [
        tmp_path / name for name in ("README.md.tmp", ".notes.tmp", ".README.md.draft.tmp", "x.0123abcd.tmp")
    ]
    for path in [*ours, other_target, *users]:
        path.write_text("x")
    assert leftovers(tmp_path) == sorted([*ours, other_target])
    remove_leftovers(tmp_path, ["README.md", "build_report.json"])
    assert sorted(tmp_path.iterdir()) == sorted([other_target, *users])
