"""Fixtures of the blocks that train, launch, convert and serve: every tiny subset built, an
interrupted training run, a VCTK on a "shared" folder with a check against a one-process build, the
official AASIST checkpoints where a user or a finished download puts them, an m4a clip, a checkout's
root for ``pip install -e .``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.docs_fixtures.basic import REPO_ROOT, TIMEOUT, copy, make_tiny_dataset, speech, zero_shot
from tests.docs_fixtures.registry import BlockFolder, artefact, fixture

#: The official AASIST checkpoints (MIT; provenance in tests/fixtures/README.md).
OFFICIAL_CHECKPOINTS = REPO_ROOT / "tests" / "fixtures" / "aasist"
#: The options file of the interrupted run: the tiny model, so that the resumed run is short.
INTERRUPTED_RUN_OPTIONS = """\
# options of `accelerate launch train.py --config-file runs/e.yaml` (field names of TrainingConfig)
subset: E
dataset: codecfake
model: tiny
epochs: 3
batch_size: 2
checkpoint_steps: 1
output_dir: runs/e
"""


# --- artefacts ----------------------------------------------------------------------------------------


@artefact("tiny_dataset_all")
def make_tiny_dataset_all(folder: Path) -> Path:
    from codecfake_hf.codecs.registry import PAPER_SUBSETS

    return make_tiny_dataset(folder, PAPER_SUBSETS)


@artefact("interrupted_run")
def make_interrupted_run(folder: Path) -> Path:
    """``runs/e.yaml`` and ``runs/e/``: train.py started with those options and stopped with Ctrl-C in
    epoch 2 of 3 (epoch 1 logged, a checkpoint taken mid epoch 2), as a user's interrupted run is left."""
    make_tiny_dataset(folder / "codecfake")
    (folder / "runs").mkdir()
    (folder / "runs" / "e.yaml").write_text(INTERRUPTED_RUN_OPTIONS)
    run = folder / "runs" / "e"
    mid_epoch_2 = run / "checkpoints" / "step_3" / "progress.json"  # 2 steps an epoch (4 clips, batch 2)
    command = [sys.executable, str(REPO_ROOT / "train.py"), "--config-file", "runs/e.yaml"]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    training = subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while not mid_epoch_2.is_file() and training.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    training.send_signal(signal.SIGINT)  # Ctrl-C
    _, stderr = training.communicate(timeout=TIMEOUT)
    assert training.returncode == 130 and "--resume" in stderr, (
        f"train.py was not interrupted:\n{stderr[-3000:]}"
    )
    assert _logged_epochs(run) == [1], _logged_epochs(run)
    return folder / "runs"


def _logged_epochs(run: Path) -> list[int]:
    """The epochs of ``run/log.jsonl``, in the order they were logged."""
    return [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()]


# --- fixtures -----------------------------------------------------------------------------------------


@fixture
def tiny_dataset_all(block: BlockFolder) -> None:
    """``codecfake/``: the tiny VCTK built with the tiny random-weight codecs of all 15 subsets."""
    copy(block.artefact("tiny_dataset_all"), block.folder / "codecfake")


@fixture
def interrupted_run(block: BlockFolder) -> None:
    """``runs/e.yaml`` (subset E, the tiny model, 3 epochs of batch 2, a checkpoint every step,
    ``output_dir: runs/e``) and ``runs/e/``, that run stopped with Ctrl-C in epoch 2. After the block,
    ``runs/e`` must hold the run resumed, not restarted: epochs 1, 2, 3 logged once each, and ``best/``."""
    copy(block.artefact("interrupted_run"), block.folder / "runs")
    run = block.folder / "runs" / "e"

    def finished() -> None:
        epochs = _logged_epochs(run)
        assert epochs == [1, 2, 3], f"{run}/log.jsonl: epochs {epochs}, not 1, 2, 3 (a resumed run)"
        assert (run / "best" / "model.safetensors").is_file(), f"{run}/best: no model saved"

    block.stack.callback(finished)


@fixture
def asvspoof2019_detectors(block: BlockFolder) -> None:
    """``models/aasist/`` and ``models/aasist-l/``: saved random AASISTs at the ``tiny`` preset, standing
    in for the converted official ASVspoof 2019 checkpoints."""
    for name in ("aasist", "aasist-l"):
        copy(block.artefact("tiny_detector"), block.folder / "models" / name)


@fixture
def zero_shot_sets(block: BlockFolder) -> None:
    """``zero_shot/{valle,vallex,speechx}/``: ``bonafide/`` + ``spoof/`` folders (the tiny dataset's
    validation clips), standing in for the VALL-E, VALL-E X and SpeechX samples."""
    zero_shot(block)
    for name in ("vallex", "speechx"):
        shutil.copytree(block.folder / "zero_shot" / "valle", block.folder / "zero_shot" / name)


@fixture
def shared_vctk(block: BlockFolder) -> None:
    """``~/shared/VCTK-Corpus-0.92``: the tiny VCTK (5 speakers, 2 clips each) on the folder every
    simulated machine sees."""
    copy(block.artefact("tiny_vctk"), block.folder / "shared" / "VCTK-Corpus-0.92")


def _check_against_one_process_build(block: BlockFolder, threads: int) -> None:
    """After the block: ``~/shared/codecfake`` holds the files, byte for byte, of a one-process build
    (``python -m codecfake_cli build``, ``threads`` torch threads) of the corpus, subsets and codecs
    its ``build_report.json`` names (the comparison of ``tests/dataset_builder/test_build_processes.py``)."""

    def same() -> None:
        from tests.dataset_builder.test_build_processes import _files

        built = block.folder / "shared" / "codecfake"
        report = json.loads((built / "build_report.json").read_text())
        subsets = ",".join(subset for subset in report["configs"] if subset != "bonafide")
        reference = block.folder / "one-process" / "codecfake"
        command = [sys.executable, "-m", "codecfake_cli", "build", "--vctk", report["vctk"]["root"]]
        command += ["--subsets", subsets, "--out", str(reference)] + (
            ["--tiny"] if report["tiny_codecs"] else []
        )
        environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0, result.stderr[-3000:]
        expected, actual = _files(reference), _files(built)
        assert sorted(actual) == sorted(expected), f"{built}: not the files of {reference}"
        differ = [name for name in expected if actual[name] != expected[name]]
        assert not differ, f"{built}: {len(differ)} files differ from the one-process build's: {differ[:5]}"

    block.stack.callback(same)


@fixture
def same_as_one_process_build(block: BlockFolder) -> None:
    """After the block: ``~/shared/codecfake`` equals a one-process build of the same (one torch thread,
    the blocks' ``OMP_NUM_THREADS``), byte for byte."""
    _check_against_one_process_build(block, threads=1)


@fixture
def same_as_one_process_build_4_threads(block: BlockFolder) -> None:
    """After the block: ``~/shared/codecfake`` equals a one-process build of the same with 4 torch
    threads (a build's bytes depend on the thread count), byte for byte."""
    _check_against_one_process_build(block, threads=4)


@fixture
def official_checkpoints(block: BlockFolder) -> None:
    """``path/to/AASIST-L.pth`` and ``path/to/AASIST.pth``: the official checkpoints, unchanged."""
    (block.folder / "path" / "to").mkdir(parents=True)
    for name in ("AASIST-L.pth", "AASIST.pth"):
        shutil.copy2(OFFICIAL_CHECKPOINTS / name, block.folder / "path" / "to" / name)


@fixture
def downloaded_aasist_l(block: BlockFolder) -> None:
    """``models/aasist-l.download/AASIST-L.pth``: the official file where a finished
    ``convert-aasist download models/aasist-l`` leaves it (GitHub is not reachable here), so the
    command checks its sha256 and converts it without a request."""
    (block.folder / "models" / "aasist-l.download").mkdir(parents=True)
    shutil.copy2(OFFICIAL_CHECKPOINTS / "AASIST-L.pth", block.folder / "models" / "aasist-l.download")


@fixture
def talk_m4a(block: BlockFolder) -> None:
    """``talk.m4a``: 10 s of speech-like audio at 44.1 kHz, AAC-encoded by ffmpeg."""
    from codecfake_hf.audio.audio_io import write_audio

    source = block.folder / "talk-source.wav"
    write_audio(source, speech(10.0, 44100, seed=7), 44100)
    command = ["ffmpeg", "-loglevel", "error", "-i", str(source), "-c:a", "aac", "-b:a", "96k"]
    subprocess.run([*command, str(block.folder / "talk.m4a")], check=True, timeout=TIMEOUT)
    source.unlink()


@fixture
def project_checkout(block: BlockFolder) -> None:
    """The folder is a clone's root: ``pyproject.toml`` and ``README.md`` copied, the package folders
    linked, so ``pip install -e .`` finds the project (its metadata is built in the folder)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, block.folder / name)
    for name in ("codecfake_hf", "codecfake_cli", "dataset_builder", "model_cards"):
        (block.folder / name).symlink_to(REPO_ROOT / name)
