"""Shared test fixtures: the reference files in ``tests/fixtures/`` and the offline environment."""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest

# Tests never download: every Hub access must fail fast and clearly.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures/``: golden vectors, the official AASIST checkpoints and upstream state-dict
    layouts, committed with the tests (provenance of every file in its ``README.md``)."""
    return FIXTURES_DIR


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run thousands of small ops: one torch thread avoids oversubscribing shared cores.
    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_aasist_dir(tmp_path_factory) -> Path:
    """A saved random AASIST at the ``tiny`` preset (8,000-sample windows, every part present), as
    ``save_pretrained`` / ``convert-aasist`` write detectors."""
    import torch

    from codecfake_hf.models.aasist import AasistConfig, AasistFeatureExtractor, AasistForAudioClassification

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_aasist")
    config = AasistConfig.from_preset("tiny")
    AasistForAudioClassification(config).eval().save_pretrained(folder)
    AasistFeatureExtractor(num_samples=config.num_samples).save_pretrained(folder)
    return folder


class _RunsCodeWhenUnpickled:
    """Unpickling this calls ``os.mkdir(path)``: a stand-in for code hidden in a shared file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


@pytest.fixture
def malicious_pickle(tmp_path) -> tuple[bytes, Path]:
    """``(payload, marker)``: a file in ``torch.save`` format (what .pth/.bin/.pkl checkpoints are)
    whose pickle creates the folder ``marker`` when loaded without ``weights_only``. That it is live
    is checked by reading its pickle opcodes (a call of ``os.mkdir`` on ``marker``), never by loading
    it. A test plants it and asserts that ``marker`` never appears."""
    import io
    import pickletools
    import zipfile

    import torch

    marker = tmp_path / "code-from-a-pickle-ran"
    buffer = io.BytesIO()
    torch.save(_RunsCodeWhenUnpickled(marker), buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        (data,) = [name for name in archive.namelist() if name.endswith("/data.pkl")]
        arguments = [argument for _, argument, _ in pickletools.genops(archive.read(data))]
    assert f"{os.mkdir.__module__} mkdir" in arguments and str(marker) in arguments  # GLOBAL, its argument
    return buffer.getvalue(), marker


def _tiny_wav2vec2_classifier(folder: Path, id2label: dict[int, str] | None) -> Path:
    """Save a tiny random wav2vec 2.0 audio classifier (not AASIST: no windowed feature extractor)
    to ``folder``; ``id2label=None`` keeps transformers' default labels ``LABEL_0`` / ``LABEL_1``."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    labels = (
        {} if id2label is None else {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}
    )
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, conv_dim=(8, 8),
        conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        classifier_proj_size=8, num_labels=2, **labels,
    )  # fmt: skip
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def wav2vec2_dir(tmp_path_factory) -> Path:
    """A tiny audio classifier that is not AASIST, labels ``spoof`` / ``bonafide``."""
    return _tiny_wav2vec2_classifier(tmp_path_factory.mktemp("wav2vec2"), {0: "spoof", 1: "bonafide"})


@pytest.fixture(scope="module")
def anonymous_labels_dir(tmp_path_factory) -> Path:
    """A tiny audio classifier (wav2vec 2.0) with transformers' default labels ``LABEL_0`` / ``LABEL_1``."""
    return _tiny_wav2vec2_classifier(tmp_path_factory.mktemp("anonymous"), None)


@pytest.fixture(scope="session")
def write_labelled_folder():
    """``write(root, per_class, samples, seed=0) -> root``: ``root/bonafide/<i>.wav`` and
    ``root/spoof/<i>.wav``, ``per_class`` clips each of ``samples`` samples of 16 kHz noise (std 0.1),
    drawn from one generator seeded ``seed``, bona fide first."""
    import numpy as np
    import soundfile as sf

    def write(root: Path, per_class: int, samples: int, seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        for label in ("bonafide", "spoof"):
            (root / label).mkdir(parents=True)
            for index in range(per_class):
                sf.write(root / label / f"{index}.wav", rng.normal(0, 0.1, samples).astype(np.float32), 16000)
        return root

    return write


@pytest.fixture(scope="session")
def train_script() -> ModuleType:
    """The training command line that the repository's ``train.py`` runs, :mod:`codecfake_cli.train`
    (``train_script.main(argv)`` runs it in this process)."""
    import codecfake_cli.train

    return codecfake_cli.train


class TinyRun:
    """A labelled folder ``root/data`` (4 bona fide, 4 spoof clips) and a finished tiny training run
    ``root/reference``: 2 epochs of 2 steps, a checkpoint every step, the last two kept (``step_3``
    mid-epoch 2, ``step_4`` its end)."""

    def __init__(self, root: Path, script: ModuleType) -> None:
        self.root, self.script = root, script

    def options(self, output_dir: str | os.PathLike) -> list[str]:
        """The train.py options of the reference run, writing to ``output_dir``."""
        return ["--dataset", str(self.root / "data"), "--model", "tiny", "--epochs", "2", "--batch-size", "2",
                "--max-train-samples", "4", "--checkpoint-steps", "1", "--num-workers", "0", "--log-with", "none",
                "--output-dir", str(output_dir)]  # fmt: skip

    def run(self, output_dir: str, *extra: str) -> int:
        """``train.py`` in this process with the reference options; ``output_dir`` is relative to ``root``."""
        return self.script.main([*self.options(self.root / output_dir), *extra])

    def copy(self, target: Path) -> Path:
        """A copy of the finished reference run at ``target`` (replacing what was there)."""
        import shutil

        shutil.rmtree(target, ignore_errors=True)
        return Path(shutil.copytree(self.root / "reference", target))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, write_labelled_folder, train_script) -> TinyRun:
    """See :class:`TinyRun`."""
    run = TinyRun(tmp_path_factory.mktemp("tiny_run"), train_script)
    write_labelled_folder(run.root / "data", per_class=4, samples=9000)
    assert run.run("reference") == 0
    return run


def free_port() -> int:
    """A local TCP port nobody listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def accelerate_launch():
    """``command(launcher_options, args, module=None) -> (command, environment)``: ``train.py`` (or, with
    ``module``, ``python -m <module>``) under ``accelerate launch`` on CPU processes
    (``ACCELERATE_USE_CPU=1``, one torch thread each, a free port, offline), as a user launches it; e.g.
    ``["--multi_gpu", "--num_processes", "2"]``."""

    def command(
        launcher_options: list[str], args: list[str], module: str | None = None
    ) -> tuple[list[str], dict[str, str]]:
        environment = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
                       "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
        launch = [sys.executable, "-m", "accelerate.commands.launch", *launcher_options, "--num_machines", "1",
                  "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port())]  # fmt: skip
        target = ["-m", module] if module is not None else [str(REPO_ROOT / "train.py")]
        return [*launch, *target, *args], environment

    return command


@pytest.fixture
def unreachable_hub(monkeypatch):
    """Online mode (HF_HUB_OFFLINE unset) with the Hub endpoint on a local port nobody listens on;
    loading through transformers (its retry loop) fails the test. Returns the endpoint."""
    import huggingface_hub
    from transformers import AutoModelForAudioClassification

    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", endpoint)

    def no_download(*args, **kwargs):
        raise AssertionError("from_pretrained was reached: transformers would retry for half a minute")

    monkeypatch.setattr(AutoModelForAudioClassification, "from_pretrained", no_download)
    return endpoint


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch) -> Path:
    """``tmp_path/read-only``: a folder in which nothing can be created (mode 0o555; and since root may
    write anywhere, ``os.mkdir`` in it is refused with EACCES as the system refuses other users)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    make_dir = os.mkdir

    def refuse(path, *args, **kwargs):
        if os.path.abspath(path).startswith(f"{folder}{os.sep}"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return make_dir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)
    yield folder
    folder.chmod(0o755)


@pytest.fixture(scope="module")
def bonafide_build(tmp_path_factory) -> Path:
    """A bona fide CodecFake build (2 speakers, 1 clip each) as ``codecfake build`` writes it."""
    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.synthetic import make_synthetic_vctk

    root = tmp_path_factory.mktemp("push")
    make_synthetic_vctk(
        root / "vctk", speakers=("p225", "p226"), utterances_per_speaker=1, seconds=(0.1, 0.2)
    )
    build_codecfake(root / "vctk", root / "codecfake", [], BuildOptions(shard_size=100))
    return root / "codecfake"


class FakeDownloads:
    """Stands in for ``hf_hub_download`` (see :func:`fake_downloads`): records every call in ``asked`` as
    ``(repo, file, revision)``, answers with a small file under ``root/<repo>/<revision or main>/``, or
    raises the huggingface_hub error that ``refuse`` maps the repo or the revision to."""

    def __init__(self, root: Path):
        self.root = root
        self.asked: list[tuple[str, str, str | None]] = []
        self.refuse: dict[str, type] = {}

    def __call__(self, repo_id: str, filename: str, revision: str | None = None, **kwargs) -> str:
        import httpx2

        self.asked.append((repo_id, filename, revision))
        for key in (repo_id, revision):
            if key in self.refuse:
                url = f"https://huggingface.co/{repo_id}/resolve/{revision or 'main'}/{filename}"
                response = httpx2.Response(404, request=httpx2.Request("GET", url))
                raise self.refuse[key](f"404: {key} not found", response=response)
        path = self.root / repo_id / (revision or "main") / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("weights")
        return str(path)


@pytest.fixture
def fake_downloads(monkeypatch, tmp_path) -> FakeDownloads:
    """Online as far as :mod:`codecfake_hf.files.hub_io` can tell, with ``hf_hub_download`` a :class:`FakeDownloads`
    (nothing leaves the machine)."""
    from huggingface_hub import constants

    from codecfake_hf.files import hub_io

    fake = FakeDownloads(tmp_path / "downloads")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_io, "hub_answers", lambda *args, **kwargs: True)
    monkeypatch.setattr(hub_io, "hf_hub_download", fake)
    return fake
