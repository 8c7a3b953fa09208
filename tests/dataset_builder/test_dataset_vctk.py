"""VCTK sources: layouts, the paper's split, speaker metadata, and the resumable, verified, safe download."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dataset_builder import DatasetBuildError
from dataset_builder.corpora.vctk import (
    download_vctk,
    extract_zip,
    parse_speaker_info,
    prepare_vctk,
    split_of,
)
from dataset_builder.synthetic import make_synthetic_vctk
from dataset_builder.vctk import main
from tests.serving import served


@pytest.fixture(scope="module")
def corpus_092(tmp_path_factory) -> Path:
    return make_synthetic_vctk(
        tmp_path_factory.mktemp("v092") / "VCTK-Corpus-0.92", "0.92", seconds=(0.05, 0.1)
    )


def test_split_is_the_papers_and_speaker_disjoint(corpus_092):
    manifest = prepare_vctk(corpus_092)
    assert manifest.layout == "0.92"
    by_split = {
        s: {u.speaker_id for u in manifest.utterances if u.split == s}
        for s in ("train", "validation", "test")
    }
    assert by_split == {
        "train": {"p225", "p230", "p315"},
        "validation": {"p226", "p229"},
        "test": {"p227", "p228"},
    }
    assert manifest.counts() == {
        "train": {"utterances": 9, "speakers": 3},
        "validation": {"utterances": 6, "speakers": 2},
        "test": {"utterances": 6, "speakers": 2},
    }
    assert [split_of(s) for s in ("p226", "p229", "p227", "p228", "p376", "s5")] == [
        "validation",
        "validation",
        "test",
        "test",
        "train",
        "train",
    ]


def test_untranscribed_speaker_kept_with_empty_text(corpus_092):
    manifest = prepare_vctk(corpus_092)
    assert manifest.untranscribed == ["p315_001", "p315_002", "p315_003"]
    first = next(u for u in manifest.utterances if u.utterance_id == "p225_001")
    assert first.text == "Sentence 1 of p225."
    assert first.path.endswith("p225/p225_001_mic1.flac")


def test_mic2_and_parent_folder(corpus_092):
    manifest = prepare_vctk(corpus_092.parent, mic="mic2")  # the folder the zip extracts into
    assert manifest.root == corpus_092
    assert all(u.path.endswith("_mic2.flac") for u in manifest.utterances)
    assert {u.utterance_id for u in manifest.utterances} == {
        u.utterance_id for u in prepare_vctk(corpus_092).utterances
    }


def test_layout_080(tmp_path):
    root = make_synthetic_vctk(
        tmp_path / "VCTK-Corpus", "0.80", speakers=("p225", "p226"), seconds=(0.05, 0.1)
    )
    manifest = prepare_vctk(tmp_path)
    assert manifest.layout == "0.80"
    assert [u.utterance_id for u in manifest.utterances][:2] == ["p225_001", "p225_002"]
    assert manifest.speakers["p226"]["gender"] == "F"  # "226" in 0.80's speaker-info.txt
    with pytest.raises(DatasetBuildError, match="one microphone"):
        prepare_vctk(root, mic="mic2")


def test_not_a_corpus(tmp_path):
    with pytest.raises(DatasetBuildError, match="not a VCTK corpus folder"):
        prepare_vctk(tmp_path)
    with pytest.raises(DatasetBuildError, match="no such folder"):
        prepare_vctk(tmp_path / "missing")


def test_speaker_info_092_with_comments(tmp_path):
    info = tmp_path / "speaker-info.txt"
    info.write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\np280  25  F  French  Paris  (mic2 files unavailable)\n"
    )
    assert parse_speaker_info(info) == {
        "p280": {"age": "25", "gender": "F", "accent": "French", "region": "Paris  (mic2 files unavailable)"}
    }


@pytest.fixture()
def served_zip(tmp_path, monkeypatch):
    """A tiny VCTK 0.92 zip (files at the archive root, like the official one) on a loopback server,
    reachable (online)."""
    import huggingface_hub

    corpus = make_synthetic_vctk(
        tmp_path / "src", "0.92", speakers=("p225", "p226"), utterances_per_speaker=1
    )
    archive = tmp_path / "VCTK-Corpus-0.92.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(corpus.rglob("*")):
            zipped.write(path, path.relative_to(corpus).as_posix())
    payload = archive.read_bytes()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with served(payload, "VCTK-Corpus-0.92.zip") as (url, handler):
        yield url, payload, handler


def test_download_verifies_extracts_and_is_idempotent(tmp_path, served_zip):
    url, payload, handler = served_zip
    digest = hashlib.sha256(payload).hexdigest()
    corpus = download_vctk(tmp_path / "dl", url=url, sha256=digest, size=len(payload))
    assert (corpus / ".completed").is_file()
    assert len(prepare_vctk(corpus).utterances) == 2
    assert handler.ranges == [None]
    assert download_vctk(tmp_path / "dl", url=url, sha256=digest, size=len(payload)) == corpus
    assert handler.ranges == [None]  # the completion marker: no second request


def test_download_resumes_with_a_range_request(tmp_path, served_zip):
    url, payload, handler = served_zip
    target = tmp_path / "dl"
    target.mkdir()
    (target / "VCTK-Corpus-0.92.zip.part").write_bytes(payload[:1000])  # an interrupted download
    download_vctk(target, url=url, sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    assert handler.ranges == ["bytes=1000-"]
    assert (target / "VCTK-Corpus-0.92.zip").read_bytes() == payload


def test_download_rejects_a_wrong_checksum(tmp_path, served_zip):
    url, payload, _ = served_zip
    with pytest.raises(DatasetBuildError, match="sha256 .* does not match.*this command's partial file"):
        download_vctk(tmp_path / "dl", url=url, sha256="0" * 64, size=len(payload))
    assert list((tmp_path / "dl").iterdir()) == []  # its own download deleted: a rerun downloads again
    with pytest.raises(DatasetBuildError, match="bytes instead of"):
        download_vctk(tmp_path / "dl", url=url, sha256=None, size=len(payload) + 1)
    assert list((tmp_path / "dl").iterdir()) == []


@pytest.mark.parametrize("wrong", ["size", "sha256"])
def test_a_zip_the_user_put_there_is_moved_aside_never_deleted(tmp_path, served_zip, wrong):
    """The messages tell users to put the zip at DIR/VCTK-Corpus-0.92.zip: one that fails the check is
    renamed (``.rejected``, then ``.rejected-2``), the message names where it went, and a rerun
    downloads the right one."""
    url, payload, handler = served_zip
    target = tmp_path / "dl"
    target.mkdir()
    archive = target / "VCTK-Corpus-0.92.zip"
    theirs = [payload[:-1] if wrong == "size" else payload[:-1] + b"!", b"another wrong zip"]
    digest = hashlib.sha256(payload).hexdigest()
    for attempt, content in enumerate(theirs, start=1):
        archive.write_bytes(content)
        aside = target / ("VCTK-Corpus-0.92.zip.rejected" + ("" if attempt == 1 else f"-{attempt}"))
        with pytest.raises(DatasetBuildError) as raised:
            download_vctk(target, url=url, sha256=digest, size=len(payload) if wrong == "size" else None)
        assert f"moved it to {aside} (nothing was deleted); rerun to download the zip" in str(raised.value)
        assert aside.read_bytes() == content and not archive.exists()
    assert handler.ranges == []  # nothing was downloaded over them
    corpus = download_vctk(target, url=url, sha256=digest, size=len(payload))
    assert archive.read_bytes() == payload and (corpus / ".completed").is_file()
    assert [(target / f"VCTK-Corpus-0.92.zip.rejected{n}").read_bytes() for n in ("", "-2")] == theirs


def test_a_partial_download_longer_than_the_zip_is_started_again(tmp_path, served_zip):
    """``.part`` is the command's own file: one longer than the zip cannot be resumed and is replaced."""
    url, payload, handler = served_zip
    target = tmp_path / "dl"
    target.mkdir()
    (target / "VCTK-Corpus-0.92.zip.part").write_bytes(payload + b"junk")
    download_vctk(target, url=url, sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    assert handler.ranges == [None] and (target / "VCTK-Corpus-0.92.zip").read_bytes() == payload


def test_download_interrupted_keeps_the_partial_zip_and_the_same_command_resumes(tmp_path, served_zip):
    """Ctrl-C (a real SIGINT) during ``python -m dataset_builder.vctk --download dl``: one line, exit 130,
    the bytes that arrived kept in the ``.part`` file; the same command then resumes with a range request."""
    from tests.test_interrupts import ENVIRONMENT, interrupt, interrupted_line

    url, payload, handler = served_zip
    handler.stall_after = len(payload) // 2
    # `python -m dataset_builder.vctk --download dl`, with the test server's zip as the official one
    program = ("import sys; from dataset_builder import vctk; "
               f"vctk.download_vctk.__defaults__ = ({url!r}, {hashlib.sha256(payload).hexdigest()!r}, {len(payload)}); "
               "sys.exit(vctk.main(sys.argv[1:]))")  # fmt: skip
    command = [sys.executable, "-c", program, "--download", "dl"]
    partial = tmp_path / "dl" / "VCTK-Corpus-0.92.zip.part"
    online = {**ENVIRONMENT, "HF_HUB_OFFLINE": "0"}  # the loopback server stands for the official host
    result = interrupt(
        command, lambda err: partial.is_file() and partial.stat().st_size > 0, tmp_path, environment=online
    )
    line = interrupted_line(result, "python -m dataset_builder.vctk")
    assert line.endswith("what is downloaded into dl is kept; rerun the same command to go on (the download "
                         "resumes)")  # fmt: skip
    assert partial.read_bytes() == payload[: len(payload) // 2]
    finished = subprocess.run(command, cwd=tmp_path, env=online, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert handler.ranges == [None, f"bytes={len(payload) // 2}-"]
    assert (tmp_path / "dl" / "VCTK-Corpus-0.92.zip").read_bytes() == payload


def test_download_from_a_file_url(tmp_path, served_zip):
    _, payload, _ = served_zip
    source = tmp_path / "mirror" / "VCTK-Corpus-0.92.zip"
    source.parent.mkdir()
    source.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    corpus = download_vctk(tmp_path / "dl", url=source.as_uri(), sha256=digest, size=len(payload))
    assert (corpus / "speaker-info.txt").is_file()


@pytest.mark.parametrize(
    "member", ["../escape.txt", "/etc/escape.txt", "txt/../../escape.txt", "C:/escape.txt"]
)
def test_extract_refuses_unsafe_members(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("speaker-info.txt", "ID\n")
        zipped.writestr(member, "owned")
    with pytest.raises(DatasetBuildError, match="unsafe member path"):
        extract_zip(archive, tmp_path / "out" / "corpus")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_counts_command_prints_ours_next_to_the_papers(corpus_092, tmp_path, capsys):
    assert main([str(corpus_092)]) == 0
    printed = capsys.readouterr().out
    assert "| train | 9 | 42752 | 3 | 103 |" in printed and "| test | 6 | 755 | 2 | 2 |" in printed
    assert "untranscribed utterances (text ''): 3" in printed
    assert main([str(tmp_path)]) == 2 and "not a VCTK corpus folder" in capsys.readouterr().err
