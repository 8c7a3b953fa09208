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
