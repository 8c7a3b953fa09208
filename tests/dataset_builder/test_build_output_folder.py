"""`codecfake build --out` never replaces files of a folder that is not a CodecFake build."""

from __future__ import annotations

import pytest

from codecfake_cli.main import main
from dataset_builder import DatasetBuildError
from dataset_builder.build import BuildOptions, build_codecfake, check_output_folder
from dataset_builder.synthetic import make_synthetic_vctk


@pytest.fixture()
def foreign(tmp_path):
    folder = tmp_path / "my_project"
    folder.mkdir()
    (folder / "README.md").write_text("# my project\n")
    return folder


def test_build_refuses_a_foreign_non_empty_folder(foreign, tmp_path, capsys):
    corpus = make_synthetic_vctk(tmp_path / "vctk", speakers=("p225",), utterances_per_speaker=1)
    with pytest.raises(DatasetBuildError, match="not empty and not a CodecFake build.*--force"):
        build_codecfake(corpus, foreign, [], BuildOptions())
    assert main(["build", "--vctk", str(corpus), "--configs", "", "--out", str(foreign)]) == 2
    assert "not empty and not a CodecFake build" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["README.md"]
    assert (foreign / "README.md").read_text() == "# my project\n"

    report = build_codecfake(corpus, foreign, [], BuildOptions(), force=True)  # asked: builds there
    assert report["configs"] == ["bonafide"] and (foreign / "build_report.json").is_file()
    build_codecfake(corpus, foreign, [], BuildOptions())  # now a CodecFake build: reruns need no --force


def test_new_empty_and_started_builds_are_accepted(tmp_path):
    check_output_folder(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")
    (tmp_path / "killed" / ".build").mkdir(parents=True)  # a build killed before its report
    (tmp_path / "killed" / "data").mkdir()
    check_output_folder(tmp_path / "killed")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetBuildError, match="is a file"):
        check_output_folder(tmp_path / "file")


def test_rebuild_refuses_to_replace_an_edited_card(tmp_path, capsys):
    corpus = make_synthetic_vctk(tmp_path / "vctk", speakers=("p225",), utterances_per_speaker=1)
    out = tmp_path / "cf"
    build_codecfake(corpus, out, [], BuildOptions())
    build_codecfake(corpus, out, [], BuildOptions())  # the card is still what the build wrote: rebuilt
    edited = (out / "README.md").read_text() + "\nMy notes on this dataset.\n"
    (out / "README.md").write_text(edited)
    command = ["build", "--vctk", str(corpus), "--configs", "", "--out", str(out)]
    assert main(command) == 2
    assert "README.md: edited since codecfake wrote it" in capsys.readouterr().err
    assert (out / "README.md").read_text() == edited
    assert main([*command, "--write-card"]) == 0  # asked: the card is regenerated
    assert "My notes" not in (out / "README.md").read_text()


def test_a_rebuild_removes_the_shards_its_plan_no_longer_has(tmp_path):
    """Shards of an earlier plan go, also those of a split that is now empty (its one planned shard is
    never written), so a pushed folder holds no stale audio."""
    import shutil

    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.synthetic import make_synthetic_vctk

    corpus = make_synthetic_vctk(
        tmp_path / "vctk" / "VCTK-Corpus-0.92", speakers=("p225", "p226", "p227"), utterances_per_speaker=2,
        seconds=(0.2, 0.3),
    )  # fmt: skip
    out = tmp_path / "codecfake"
    options = BuildOptions(tiny=True, shard_size=2, batch_size=4)
    build_codecfake(corpus, out, ["E"], options)
    assert (out / "data/E/test-00000-of-00001.parquet").is_file()
    shutil.rmtree(corpus / "wav48_silence_trimmed" / "p227")  # the test split is empty now: its one planned
    report = build_codecfake(corpus, out, ["E"], options)  # shard has the name of the earlier test shard
    assert report["splits"]["test"]["utterances"] == 0
    for config in ("bonafide", "E"):
        assert sorted(p.name for p in (out / "data" / config).iterdir()) == [
            "train-00000-of-00001.parquet",
            "validation-00000-of-00001.parquet",
        ]
