"""``codecfake build`` when the disk fills up (nothing half-written is left behind, a one-line error),
after a killed run (its temporary files are removed, nothing of the user's) and the paths of
``build_report.json`` (corpus folder absolute, every file relative to it)."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dataset_builder import DatasetBuildError
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

REPO_ROOT = Path(__file__).resolve().parents[2]
FILE_SIZE_LIMIT = 200_000  # bytes: the source check's cache fits, the bona fide shard's does not


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """12 clips of 1-1.5 s at 48 kHz (about 1.2 MB of FLAC), one of them undecodable."""
    root = make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92",
        speakers=("p225", "p226", "p227"),
        utterances_per_speaker=4,
        seconds=(1.0, 1.5),
    )
    (root / "wav48_silence_trimmed/p225/p225_005_mic1.flac").write_bytes(b"fLaC but not really" * 10)
    return root


def _leftovers(out: Path) -> list[Path]:
    """Temporary files: ours (``*.tmp``) and those of ``datasets`` (``tmp*``)."""
    return [
        p for p in out.rglob("*") if p.is_file() and (p.name.endswith(".tmp") or p.name.startswith("tmp"))
    ]


def _limit_file_size() -> None:  # in the child: writing past the limit fails with EFBIG, as a full disk would
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_full_disk_leaves_no_temporary_file_and_a_rerun_finishes(corpus, tmp_path):
    out = tmp_path / "codecfake"
    command = [sys.executable, "-m", "codecfake_cli", "build", "--vctk", str(corpus), "--configs", "bonafide",
               "--out", str(out), "--shard-size", "100"]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    failed = subprocess.run(command, env=env, capture_output=True, text=True, preexec_fn=_limit_file_size)
    assert _leftovers(out) == [] and not list(out.glob("data/*/*.parquet"))
    assert failed.returncode == 2, failed.stderr[-2000:]
    assert "cannot write (File too large); free disk space" in failed.stderr
    assert "Traceback" not in failed.stderr

    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert len(pq.read_table(next(out.glob("data/bonafide/train-*.parquet")))) == 4
    assert _leftovers(out) == [] and not (out / ".build" / "bonafide").exists()


def test_failed_parquet_write_removes_its_temporary_file(corpus, tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", no_space)
    out = tmp_path / "codecfake"
    with pytest.raises(DatasetBuildError, match="cannot write \\(No space left on device\\)"):
        build_codecfake(corpus, out, [], BuildOptions(shard_size=100))
    assert _leftovers(out) == [] and not list(out.glob("data/*/*"))
    assert not list((out / ".build").glob("bonafide/*"))


def test_a_rebuild_removes_what_killed_writers_left_and_nothing_of_the_users(bonafide_build, tmp_path):
    """A process killed while writing (SIGKILL: no clean-up) leaves its temporary file; the next build
    removes those of its shards, card and report, and keeps the user's files, even ones named as the
    writer's own temporary files used to be named (``README.md.tmp``)."""
    out = Path(shutil.copytree(bonafide_build, tmp_path / "codecfake"))
    shard = next(out.glob("data/bonafide/train-*.parquet"))
    killed = [
        shard.with_name(f".{shard.name}.0123abcd.tmp"),
        shard.with_name(f"{shard.name}.tmp"),  # an earlier version's temporary shard
        out / ".README.md.89abcdef.tmp",
        out / ".build_report.json.0a1b2c3d.tmp",
    ]
    users = [out / "README.md.tmp", out / "notes.tmp", out / ".README.md.draft.tmp"]
    for path in [*killed, *users]:
        path.write_bytes(b"half")
    build_codecfake(bonafide_build.parent / "vctk", out, [], BuildOptions(shard_size=100))
    assert not [path for path in killed if path.exists()]
    assert all(path.read_bytes() == b"half" for path in users)


def test_report_gives_the_corpus_absolute_and_files_relative_to_it(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    report = build_codecfake(
        corpus.name, tmp_path / "out", [], BuildOptions(shard_size=100)
    )  # a relative --vctk
    assert report == json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert report["vctk"]["root"] == str(corpus.resolve())
    (excluded,) = report["excluded"]
    assert excluded["path"] == "wav48_silence_trimmed/p225/p225_005_mic1.flac"
    assert excluded["error"].startswith("wav48_silence_trimmed/p225/p225_005_mic1.flac: cannot decode audio")
    assert (Path(report["vctk"]["root"]) / excluded["path"]).is_file()
