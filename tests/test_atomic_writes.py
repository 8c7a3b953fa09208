"""Files the project writes are complete or absent: a write that fails half-way (a full disk) leaves
the earlier file as it was and no temporary file behind."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest

from codecfake_hf.atomic_files import atomic_path
from codecfake_hf.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")


def _disk_full_after_half(monkeypatch, name: str) -> None:
    """``DataFrame.to_csv`` to a file called ``name`` (or ``name.tmp``) writes half a table, then
    fails as a full disk does; other tables are written."""
    to_csv = pd.DataFrame.to_csv

    def half_then_full(frame, path=None, *args, **kwargs):
        if path is not None and Path(path).name in (name, f"{name}.tmp"):
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
    assert (out / name).read_bytes() == earlier and not (out / f"{name}.tmp").exists()


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
