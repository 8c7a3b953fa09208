"""Fixtures of the command tests: the user's folder of a sweep case and a tiny VCTK corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.sweep import Sandbox


@pytest.fixture(scope="module")
def vctk_corpus(tmp_path_factory) -> Path:
    """A VCTK 0.92-shaped corpus: train p225, validation p226, test p227, two 0.3-0.4 s clips each."""
    from dataset_builder.synthetic import make_synthetic_vctk

    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92", speakers=("p225", "p226", "p227"),
        utterances_per_speaker=2, seconds=(0.3, 0.4),
    )  # fmt: skip


@pytest.fixture
def sandbox(tmp_path, request, monkeypatch) -> Sandbox:
    root = tmp_path / "user"
    root.mkdir()
    monkeypatch.chdir(root)
    return Sandbox(root, request)
