"""Shared test fixtures: the reference files in ``tests/fixtures/`` and the offline environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never download: every Hub access must fail fast and clearly.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


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
    whose pickle creates the folder ``marker`` when loaded without ``weights_only``; checked here to
    be live. A test plants it and asserts that ``marker`` never appears."""
    import io

    import torch

    marker = tmp_path / "code-from-a-pickle-ran"
    buffer = io.BytesIO()
    torch.save(_RunsCodeWhenUnpickled(marker), buffer)
    torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)
    assert marker.is_dir()
    marker.rmdir()
    return buffer.getvalue(), marker
