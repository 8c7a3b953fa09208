"""Ctrl-C in a long command: a real SIGINT to the process group of a command running in a fresh
process (as a terminal sends it) ends it with one line on stderr saying what is kept and how to go on,
exit code 130, no traceback and no temporary file; rerunning the command as the line says goes on.
Before, each of these printed a ``KeyboardInterrupt`` traceback. (The VCTK download's case is in
``tests/dataset_builder/test_dataset_vctk.py``, beside its test server.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dataset_builder.synthetic import make_synthetic_vctk

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}


def interrupt(
    command: list[str],
    ready: Callable[[str], bool],
    cwd: Path,
    timeout: float = 300,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group (environment: :data:`ENVIRONMENT` unless given); once
    ``ready(stderr so far)`` holds, send SIGINT to the group (Ctrl-C in a terminal) and wait for the
    command to end.

    Raises:
        AssertionError: the command ended, or ``timeout`` seconds passed, before it was ready.
    """
    process = subprocess.Popen(command, cwd=cwd, env=environment or ENVIRONMENT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    streams = {"out": bytearray(), "err": bytearray()}

    def drain(pipe, buffer: bytearray) -> None:
        while chunk := os.read(pipe.fileno(), 65536):
            buffer.extend(chunk)

    readers = [threading.Thread(target=drain, args=(pipe, streams[name]), daemon=True)
               for name, pipe in (("out", process.stdout), ("err", process.stderr))]  # fmt: skip
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    while not ready(streams["err"].decode(errors="replace")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"not ready to interrupt: {streams['err'].decode(errors='replace')[-3000:]}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    code = process.wait(timeout=timeout)
    for reader in readers:
        reader.join()
    return subprocess.CompletedProcess(command, code, streams["out"].decode(), streams["err"].decode())


def interrupted_line(result: subprocess.CompletedProcess, program: str) -> str:
    """The one ``<program>: interrupted (Ctrl-C); ...`` line, after checking exit code 130 and that
    nothing else was reported (no traceback, no error line)."""
    assert result.returncode == 130, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr, result.stderr[
        -3000:
    ]
    lines = [
        line.strip()
        for line in re.split(r"[\r\n]", result.stderr)
        if "interrupted" in line or "error" in line
    ]
    assert len(lines) == 1 and lines[0].startswith(f"{program}: interrupted (Ctrl-C); "), result.stderr[
        -3000:
    ]
    return lines[0]


def temporary_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith((".tmp", ".partial"))]


def test_build_interrupted_keeps_finished_shards_and_the_same_command_resumes(tmp_path):
    make_synthetic_vctk(tmp_path / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=4,
                        seconds=(1.0, 1.5))  # fmt: skip
    command = [sys.executable, "-m", "codecfake_cli", "build", "--vctk", "vctk", "--configs", "E", "--tiny",
               "--out", "cf", "--shard-size", "2"]  # fmt: skip
    result = interrupt(command, lambda err: "config E" in err, tmp_path)  # bona fide done, E under way
    line = interrupted_line(result, "codecfake build")
    assert line.endswith("the finished shards in cf are kept; rerun the same command to resume (only "
                         "unfinished shards are built)")  # fmt: skip
    bonafide = {path: path.stat().st_mtime_ns for path in (tmp_path / "cf").glob("data/bonafide/*.parquet")}
    assert len(bonafide) == 6 and not temporary_files(tmp_path / "cf")
    finished = subprocess.run(command, cwd=tmp_path, env=ENVIRONMENT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "configs bonafide, E" in finished.stdout
    assert {path: path.stat().st_mtime_ns for path in bonafide} == bonafide  # kept, not built again
    assert len(list((tmp_path / "cf").glob("data/E/*.parquet"))) == 6


@pytest.mark.slow
def test_evaluate_interrupted_says_what_is_kept(tmp_path, tiny_aasist_dir, write_labelled_folder):
    write_labelled_folder(tmp_path / "set", per_class=40, samples=16000)
    command = [sys.executable, "-m", "codecfake_cli", "evaluate", "--model", str(tiny_aasist_dir), "--dataset",
               "set", "--output-dir", "eval", "--batch-size", "1"]  # fmt: skip
    result = interrupt(command, lambda err: "scoring set:" in err, tmp_path)
    line = interrupted_line(result, "codecfake evaluate")
    assert line.endswith(
        "the tables written so far are whole files (each as before or as newly written); rerun the same "
        "command to evaluate again"
    )
    assert not (tmp_path / "eval" / "eer.csv").exists() and not temporary_files(tmp_path)


@pytest.mark.slow
def test_training_interrupted_keeps_its_checkpoints_and_says_to_resume(tmp_path, tiny_run):
    options = [*tiny_run.options("run"), "--epochs", "100"]
    command = [sys.executable, str(REPO_ROOT / "train.py"), *options]
    first_checkpoint = tmp_path / "run" / "checkpoints" / "step_1" / "progress.json"
    result = interrupt(command, lambda err: first_checkpoint.is_file(), tmp_path)
    line = interrupted_line(result, "train.py")
    assert line.endswith("the checkpoints under run are kept; rerun the same command with --resume to continue "
                         "from the latest one (a run without one starts afresh)")  # fmt: skip
    assert first_checkpoint.is_file() and not temporary_files(tmp_path / "run")
