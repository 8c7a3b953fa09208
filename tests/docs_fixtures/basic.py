"""Fixtures of the first docs blocks: a tiny VCTK, tiny builds, tiny and trained detectors, clips,
scores, the repository's scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.docs_fixtures.registry import BlockFolder, artefact, fixture

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Seconds one preparation may take.
TIMEOUT = 300


def speech(seconds: float, sampling_rate: int, seed: int):
    """A voiced, speech-like clip (harmonics of a gliding pitch, a little noise), float32 in [-1, 1]:
    neither silent nor shorter than the 0.5 s a verdict needs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * sampling_rate)) / sampling_rate
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.7 * time)
    phase = 2 * np.pi * np.cumsum(pitch) / sampling_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (0.2 * voiced + 0.01 * rng.standard_normal(time.size)).astype(np.float32)


def copy(source: Path, target: Path) -> None:
    """Copy the folder ``source`` to ``target`` (which must not exist), making its parents."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)


def write_clips(folder: Path, names: dict[str, tuple[float, int]]) -> None:
    """Write ``{file name: (seconds, sampling_rate)}`` speech-like clips into ``folder``."""
    from codecfake_hf.audio.audio_io import write_audio

    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, (seconds, sampling_rate)) in enumerate(names.items()):
        write_audio(folder / name, speech(seconds, sampling_rate, seed), sampling_rate)


# --- artefacts (made once per test module, copied into each block's folder) -------------------------


@artefact("tiny_vctk")
def make_tiny_vctk(folder: Path) -> Path:
    from dataset_builder.synthetic import make_synthetic_vctk

    speakers = ("p225", "p226", "p227", "p228", "p229")
    return make_synthetic_vctk(folder, speakers=speakers, utterances_per_speaker=2, seconds=(0.3, 0.4))


def make_tiny_dataset(folder: Path, subsets: tuple[str, ...] = ("E",)) -> Path:
    """The tiny VCTK built into ``folder`` with the tiny random-weight codecs of ``subsets``."""
    from dataset_builder.build import build_codecfake
    from dataset_builder.build_options import BuildOptions

    corpus = make_tiny_vctk(folder.parent / f"{folder.name}-corpus" / "VCTK-Corpus-0.92")
    build_codecfake(corpus, folder, list(subsets), BuildOptions(tiny=True))
    return folder


artefact("tiny_dataset")(make_tiny_dataset)
artefact("tiny_dataset_e_a")(lambda folder: make_tiny_dataset(folder, ("E", "A")))


@artefact("trained_detector")
def make_trained_detector(folder: Path) -> Path:
    """The tiny AASIST trained one epoch on the tiny dataset by train.py, left uncalibrated (a
    calibration needs a detector that ranks bona fide above spoof, which a random one may not)."""
    dataset = make_tiny_dataset(folder.parent / "trained-detector-dataset")
    command = [sys.executable, str(REPO_ROOT / "train.py"), "--dataset", str(dataset), "--subset", "E"]
    command += ["--model", "tiny", "--epochs", "1", "--batch-size", "2", "--no-calibrate"]
    command += ["--output-dir", str(folder)]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run(command, check=True, capture_output=True, env=environment, timeout=TIMEOUT)
    return folder / "best"


# --- fixtures -----------------------------------------------------------------------------------------

AUDIO_PRELUDE = """
import numpy as np
_time = np.arange(2 * 44100) / 44100
waveform = (0.2 * np.sin(2 * np.pi * 140 * _time) + 0.01 * np.random.default_rng(0).standard_normal(_time.size)).astype(np.float32)
waveforms = [np.resize(waveform, n) for n in (48000, 36000)]  # 48 kHz clips
"""  # fmt: skip


@fixture
def tiny_vctk(block: BlockFolder) -> None:
    """A VCTK 0.92-shaped synthetic corpus at ``~/data/VCTK-Corpus-0.92`` (5 speakers, 2 clips each)."""
    copy(block.artefact("tiny_vctk"), block.folder / "data" / "VCTK-Corpus-0.92")


@fixture
def tiny_dataset(block: BlockFolder) -> None:
    """``codecfake/``: that corpus built with the tiny random-weight codec of subset E."""
    copy(block.artefact("tiny_dataset"), block.folder / "codecfake")


@fixture
def tiny_dataset_e_a(block: BlockFolder) -> None:
    """``codecfake/``: the tiny corpus built with the tiny codecs of subsets E and A."""
    copy(block.artefact("tiny_dataset_e_a"), block.folder / "codecfake")


@fixture
def tiny_detector(block: BlockFolder) -> None:
    """``models/aasist-l/``: a saved random AASIST at the ``tiny`` preset, as convert-aasist writes it."""
    copy(block.artefact("tiny_detector"), block.folder / "models" / "aasist-l")


@fixture
def trained_detector(block: BlockFolder) -> None:
    """``runs/E/best/`` and ``runs/aasist-l-E/best/``: a tiny AASIST that train.py trained on the tiny
    dataset, where train.py --subset E saves it with --output-dir runs/E and by default."""
    for run in ("E", "aasist-l-E"):
        copy(block.artefact("trained_detector"), block.folder / "runs" / run / "best")


@fixture
def audio(block: BlockFolder) -> None:
    """``a.wav`` (2 s, 16 kHz), ``b.flac`` (3 s, 44.1 kHz), ``long.wav`` (12 s, 22.05 kHz); in Python,
    ``waveform`` (2 s at 44.1 kHz) and ``waveforms`` (48 kHz clips)."""
    write_clips(block.folder, {"a.wav": (2.0, 16000), "b.flac": (3.0, 44100), "long.wav": (12.0, 22050)})
    block.prelude.append(AUDIO_PRELUDE)


@fixture
def heldout(block: BlockFolder) -> None:
    """``heldout/``: a ``bonafide/`` + ``spoof/`` folder holding the tiny dataset's validation clips."""
    from datasets import load_dataset

    from codecfake_hf.audio.audio_io import write_audio

    rows = load_dataset(str(block.artefact("tiny_dataset")), "E", split="validation")
    for row in rows:
        label = "bonafide" if row["label"] == 1 else "spoof"
        (block.folder / "heldout" / label).mkdir(parents=True, exist_ok=True)
        audio = row["audio"].get_all_samples()
        path = block.folder / "heldout" / label / f"{row['utterance_id']}.flac"
        write_audio(path, audio.data[0].numpy(), audio.sample_rate)


@fixture
def zero_shot(block: BlockFolder) -> None:
    """``zero_shot/valle/``: a ``bonafide/`` + ``spoof/`` folder (the tiny dataset's validation clips)."""
    heldout(block)
    (block.folder / "zero_shot").mkdir()
    (block.folder / "heldout").rename(block.folder / "zero_shot" / "valle")


@fixture
def robustness_folder(block: BlockFolder) -> None:
    """``FOLDER/`` (``bonafide/`` + ``spoof/``, 2 clips each) and the tiny detector at ``path/to/aasist``."""
    for label in ("bonafide", "spoof"):
        write_clips(block.folder / "FOLDER" / label, {f"{label}-{i}.flac": (1.0, 22050) for i in range(2)})
    copy(block.artefact("tiny_detector"), block.folder / "path" / "to" / "aasist")


@fixture
def scores(block: BlockFolder) -> None:
    """In Python, ``scores`` (bona fide logits) and ``labels`` (1 bona fide, 0 spoof) of 40 trials."""
    block.prelude.append(
        "import numpy as np\n_rng = np.random.default_rng(0)\nlabels = np.repeat([1, 0], 20)\n"
        "scores = _rng.normal(size=40) + 2.0 * labels\n"
    )


@fixture
def repo_scripts(block: BlockFolder) -> None:
    """``train.py`` and ``examples/`` of the repository, as a clone has them."""
    (block.folder / "train.py").symlink_to(REPO_ROOT / "train.py")
    (block.folder / "examples").symlink_to(REPO_ROOT / "examples")
