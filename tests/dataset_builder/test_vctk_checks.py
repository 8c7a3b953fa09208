"""``extract_zip`` refuses links and file/folder clashes before writing anything; the split counts of
``python -m dataset_builder.vctk`` leave out the files the build leaves out."""

from __future__ import annotations

import stat
import zipfile

import pytest

from dataset_builder import DatasetBuildError
from dataset_builder.corpora.vctk import extract_zip
from dataset_builder.synthetic import make_synthetic_vctk
from dataset_builder.vctk import main


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zipped:
        for member in members:
            zipped.writestr(*member)
    return path


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize(
    "members, problem",
    [
        (
            [_link("VCTK/txt", "/tmp"), ("VCTK/txt/p225/p225_001.txt", "hello")],
            "symbolic link member 'VCTK/txt'",
        ),
        ([_link("VCTK/README", "../../elsewhere")], "symbolic link member"),
        (
            [("VCTK/txt", "a file"), ("VCTK/txt/p225_001.txt", "hello")],
            "member under a file member 'VCTK/txt/p225_001.txt'",
        ),
        (
            [("VCTK/txt", "a file"), (zipfile.ZipInfo("VCTK/txt/"), "")],
            "folder member with the name of a file member",
        ),
    ],
)
def test_extract_refuses_links_and_clashes_before_writing(tmp_path, members, problem):
    archive = _zip(tmp_path / "bad.zip", [("VCTK/speaker-info.txt", "ID\n"), *members])
    with pytest.raises(DatasetBuildError, match=problem):
        extract_zip(archive, tmp_path / "out" / "corpus")
    assert not (tmp_path / "out").exists()


def test_extract_writes_a_sound_archive(tmp_path):
    archive = _zip(
        tmp_path / "good.zip", [(zipfile.ZipInfo("VCTK/txt/"), ""), ("VCTK/txt/p225_001.txt", "hello")]
    )
    extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out/VCTK/txt/p225_001.txt").read_text() == "hello"


def test_counts_leave_out_undecodable_files_as_the_build_does(tmp_path, capsys):
    corpus = make_synthetic_vctk(
        tmp_path / "VCTK-Corpus-0.92", speakers=("p225", "p226", "p227"), seconds=(0.1, 0.2)
    )
    (corpus / "wav48_silence_trimmed/p225/p225_004_mic1.flac").write_bytes(b"")
    (corpus / "wav48_silence_trimmed/p225/p225_005_mic1.flac").write_bytes(b"fLaC but not really" * 10)
    assert main([str(corpus)]) == 0
    printed = capsys.readouterr().out
    assert "| train | 3 | 42752 | 1 | 103 |" in printed  # p225_001..003, not the two broken files
    assert "| validation | 3 | 735 | 1 | 2 |" in printed and "| test | 3 | 755 | 1 | 2 |" in printed
    assert "left out, cannot be decoded (as in codecfake build): 2" in printed
    assert "p225_004_mic1.flac: cannot decode audio" in printed and "p225_005_mic1.flac" in printed
