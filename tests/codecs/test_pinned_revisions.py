"""Pinned downloads: every registry row names the Hub commit its files were checked for, or says why it
has none; every download asks for that commit; ``load_codec(revision=)``, ``resynthesize --revision`` and
``build --codec-revision`` move to another; docs/codecs.md lists every row's revision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub.errors import RevisionNotFoundError

from codecfake_cli.main import main
from codecfake_hf.codecs import registry
from codecfake_hf.files.hub_io import CheckpointUnavailableError
from dataset_builder import DatasetBuildError
from dataset_builder.build import shard_fingerprint
from dataset_builder.build_options import BuildOptions

CODECS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "codecs.md"
PINNED = {"A", "D1", "D2", "D3", "E", "mimi", "xcodec2"}


def test_every_row_pins_a_commit_or_says_why_not():
    for spec in registry.CODECS.values():
        if spec.revision is None:
            assert spec.revision_source.startswith("not pinned:"), spec.id
        else:
            assert re.fullmatch(r"[0-9a-f]{40}", spec.revision), spec.id  # a commit, never a branch
            assert "pin" in spec.revision_source and not spec.revision_source.startswith("not"), spec.id
    assert {spec.id for spec in registry.CODECS.values() if spec.revision} == PINNED
    assert registry.get_spec("E").revision == "c1dbe2ae3f1de713481a3b3e7c47f357092ee040"


def test_the_docs_list_each_row_s_revision():
    text = CODECS_PAGE.read_text(encoding="utf-8")
    start = text.index("## Pinned downloads")
    section = text[start : text.index("\n## ", start)]
    for spec in registry.CODECS.values():
        (row,) = [line for line in section.splitlines() if line.startswith(f"| {spec.id} |")]
        assert (spec.revision or "not pinned") in row, spec.id
        assert spec.repo_id in row


@pytest.fixture
def downloads(fake_downloads) -> list[tuple[str, str, str | None]]:
    """Online, every ``hf_hub_download`` recorded as (repo, file, revision); a revision "missing" does
    not exist."""
    fake_downloads.refuse["missing"] = RevisionNotFoundError
    return fake_downloads.asked


@pytest.mark.parametrize("subset", ["E", "D1", "A", "C", "B1"])
def test_every_download_asks_for_the_pinned_commit(subset, downloads):
    spec = registry.get_spec(subset)
    registry.fetch_checkpoint(spec)
    assert downloads == [(spec.repo_id, name, spec.revision) for name in spec.files]


def test_load_codec_takes_another_revision_like_from_pretrained(downloads):
    with pytest.raises(CheckpointUnavailableError, match="facebook/encodec_24khz has no revision 'missing'"):
        registry.load_codec("E", revision="missing")
    assert downloads[0][2] == "missing"
    downloads.clear()
    with pytest.raises(OSError, match="not a valid JSON"):  # the fake files are no checkpoint
        registry.load_codec("E")
    assert downloads[0][2] == registry.get_spec("E").revision


def test_resynthesize_revision_reaches_the_download(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "in.wav", np.zeros(1600, np.float32), 16000)
    argv = ["resynthesize", str(tmp_path / "in.wav"), str(tmp_path / "out.wav"), "--codec", "D1"]
    assert main([*argv, "--revision", "main"]) == 2  # offline and not cached
    err = capsys.readouterr().err
    assert "`hf download descript/dac_16khz config.json model.safetensors --revision main`" in err
    assert main(argv) == 2
    assert f"--revision {registry.get_spec('D1').revision}`" in capsys.readouterr().err


def test_build_codec_revision_option():
    pinned = registry.get_spec("E").revision
    assert BuildOptions().weights_revision("E") == pinned
    assert BuildOptions().weights_revision("C") is None  # not pinned: main
    moved = BuildOptions(codec_revision=["e=main"])
    assert (
        moved.weights_revision("E") == "main"
        and moved.weights_revision("D1") == registry.get_spec("D1").revision
    )
    assert (
        BuildOptions(tiny=True, codec_revision=["E=main"]).weights_revision("E") is None
    )  # nothing downloaded
    assert BuildOptions(checkpoint_dir="ckpt").weights_revision("E") is None
    with pytest.raises(DatasetBuildError, match="--codec-revision E: write ID=REVISION"):
        BuildOptions(codec_revision=["E"]).weights_revision("E")
    with pytest.raises(DatasetBuildError, match="--codec-revision Z9=main: unknown codec id 'Z9'"):
        BuildOptions(codec_revision=["Z9=main"]).weights_revision("E")
    with pytest.raises(DatasetBuildError, match="D1 is not built here \\(subsets: E\\)"):
        BuildOptions(codec_revision=["D1=main"]).check_codec_revisions(["E"])
    BuildOptions(codec_revision=["E=main"]).check_codec_revisions(["E"])


def test_a_shard_built_from_other_weights_is_rebuilt():
    """The revision the weights were downloaded at is part of a shard's fingerprint (not for tiny codecs)."""
    from dataset_builder.build import Shard

    shard = Shard("test", 0, 1, ({"utterance_id": "u", "path": "u.wav", "source": "s"},))
    pinned, newest = BuildOptions(), BuildOptions(codec_revision=["E=main"])
    assert shard_fingerprint(shard, "E", pinned) != shard_fingerprint(shard, "E", newest)
    tiny, tiny_moved = BuildOptions(tiny=True), BuildOptions(tiny=True, codec_revision=["E=main"])
    assert shard_fingerprint(shard, "E", tiny) == shard_fingerprint(shard, "E", tiny_moved)


def test_ssl_aasist_front_end_is_pinned(monkeypatch):
    from transformers import Wav2Vec2Model

    from codecfake_hf.files.sources import ModelSource
    from codecfake_hf.models import families
    from codecfake_hf.models.aasist.configuration_ssl_aasist import SslAasistConfig

    config = SslAasistConfig.from_preset("xls-r-300m")
    assert config.ssl_model_revision == "1a640f32ac3e39899438a2931f9924c02f080a54"
    asked = []
    monkeypatch.setattr(
        families,
        "resolve_model_source",
        lambda name, revision=None: ModelSource(str(name), revision=revision),
    )

    def fake_from_pretrained(name, revision=None, **kwargs):
        asked.append((name, revision))
        raise OSError("stop here")

    monkeypatch.setattr(Wav2Vec2Model, "from_pretrained", fake_from_pretrained)
    tiny = SslAasistConfig.from_preset("tiny", ssl_model_name_or_path="facebook/wav2vec2-xls-r-300m",
                                       ssl_model_revision=config.ssl_model_revision)  # fmt: skip
    with pytest.raises(Exception, match="stop here"):
        families.build_ssl_aasist(tiny, pretrained_front_end=True)
    assert asked == [("facebook/wav2vec2-xls-r-300m", config.ssl_model_revision)]
