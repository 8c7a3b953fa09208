"""``codecfake import xie``: Xie et al.'s Codecfake (a look-alike of its extracted folders and of its
zips) as test-only configs per condition and training configs per fake prefix: bytes unchanged, labels from
``real`` / ``fake`` (both in every label file), speakers from the names with the authors' overlap recorded,
every disagreement refused with file and value, split zips refused saying how to join them, and ``push``
refused (CC BY-NC-ND)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from codecfake_cli.main import main
from dataset_builder import DatasetBuildError
from dataset_builder.corpora.lookalike import XIE_PREFIXES, XIE_REALS, make_xie_lookalike
from dataset_builder.corpora.xie import PIECES, Options
from dataset_builder.corpus_import import import_corpus
from dataset_builder.publishing import push_to_hub
from tests.dataset_builder.test_build_processes import _files as published_files
from tests.dataset_builder.test_import_release import _imported_rows

TRAINING_CONFIGS = {"F01", "F02", "C3-1"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    return make_xie_lookalike(tmp_path_factory.mktemp("xie") / "Codecfake")


@pytest.fixture(scope="module")
def imported(extracted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "xie"
    import_corpus("xie", str(extracted), out, Options(shard_size=3))
    return out


def test_every_labelled_file_is_one_row_with_its_bytes_label_config_and_speaker(extracted, imported):
    labels = {}
    for piece in PIECES:
        folder = extracted / (piece if piece in ("train", "dev") else f"test/{piece}")
        for line in (extracted / "label" / f"{piece}.txt").read_text().splitlines():
            file, value, _ = line.split()
            labels[piece, file] = (value, (folder / file).read_bytes())
    rows = _imported_rows(imported)
    assert len(rows) == len(labels) == sum(len(r) * (1 + len(XIE_PREFIXES[p])) for p, r in XIE_REALS.items())
    for row in rows:
        split = row["file"].split("/")[2].split("-")[0]
        piece = {"train": "train", "validation": "dev"}.get(split) or row["codec"]
        value, data = labels[piece, row["audio"]["path"]]
        assert row["audio"]["bytes"] == data and row["utterance_id"] == row["audio"]["path"].removesuffix(
            ".wav"
        )
        assert row["label"] == (1 if value == "real" else 0)  # from the string: real is bona fide
        prefix = row["utterance_id"].split("_")[0] if not row["label"] else None
        if piece in ("train", "dev"):
            assert row["codec"] == ("bonafide" if row["label"] else prefix)
        else:
            assert split == "test" and row["codec_name"] == ("real" if row["label"] else prefix)
        original = row["utterance_id"].split("_", 1)[1] if prefix else row["utterance_id"]
        expected = (
            original[:4] if original.startswith("p") else original[:7] if original.startswith("SSB") else ""
        )
        assert row["speaker_id"] == expected
        assert row["quantizer"] == ("bonafide" if row["label"] else "unknown")


def test_configs_splits_and_the_recorded_speaker_overlap(imported):
    report = json.loads((imported / "build_report.json").read_text())
    assert set(report["configs"]) == {"bonafide", *PIECES[2:], *TRAINING_CONFIGS}
    assert report["imported"]["shared_speakers"] == {"SSB0005": ["train", "test"]}  # kept, and said
    card = (imported / "README.md").read_text()
    assert "**The splits share 1 speaker(s)** (SSB0005)" in card and "allow-shared" not in card
    c1 = datasets.load_dataset(str(imported), "C1")
    assert list(c1) == ["test"] and sorted(c1["test"]["label"]) == [0, 0, 1, 1]  # its own real files
    f01 = datasets.load_dataset(str(imported), "F01")
    assert {split: len(rows) for split, rows in f01.items()} == {"train": 8, "validation": 4}


def test_the_zips_give_the_same_rows_and_are_hashed(extracted, imported, tmp_path):
    zipped = make_xie_lookalike(tmp_path / "zips", zipped=True)
    out = tmp_path / "out"
    report = import_corpus("xie", str(zipped), out, Options(shard_size=3))
    assert published_files(out).keys() == published_files(imported).keys()
    for name in published_files(imported):  # the same rows (the footers differ: another input's fingerprint)
        if name.endswith(".parquet"):
            assert pq.read_table(out / name).equals(pq.read_table(imported / name))
    assert [item["name"] for item in report["imported"]["inputs"]] == [f"{piece}.zip" for piece in PIECES]
    (zipped / "train.zip").rename(zipped / "train_split.zip")
    (zipped / "train_split.z01").write_bytes(b"PK\x07\x08")
    with pytest.raises(
        DatasetBuildError, match=r"train_split.zip: a split zip .*`zip -s 0 train_split.zip --out train.zip`"
    ):
        import_corpus("xie", str(zipped), tmp_path / "split")


def test_push_is_refused_for_the_no_derivatives_licence(imported):
    card = DatasetCard.load(imported / "README.md")
    assert card.data.to_dict()["license"] == ["cc-by-nc-nd-4.0"] and card.data.to_dict()["language"] == [
        "en",
        "zh",
    ]
    assert "**Do not publish this folder**" in card.text
    with pytest.raises(
        DatasetBuildError, match="not pushed: Codecfake \\(Xie et al.\\) is licensed CC BY-NC-ND 4.0"
    ):
        push_to_hub(imported, "org/xie")
    assert main(["push", str(imported), "--repo", "org/xie"]) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("p225_003.wav Real -", "label 'Real' is neither 'real' (bona fide) nor 'fake'"),
        ("p225_003.wav 1 -", "label '1' is neither 'real'"),
        ("p225_003.wav spoof -", "label 'spoof' is neither"),
        ("p225_003.wav real", "2 fields in"),
        ("p225_003.wav fake F01", "is 'fake' but its name lacks a fake's prefix"),
        ("F01_p225_003.wav real -", "is 'real' but its name has a fake's prefix"),
        ("p225_001.wav real -", "p225_001.wav is listed again (line"),
    ],
)
def test_a_label_line_that_contradicts_the_facts_is_refused_with_file_and_line(
    extracted, tmp_path, line, message
):
    copy = tmp_path / "Codecfake"
    shutil.copytree(extracted, copy)
    label = copy / "label" / "train.txt"
    number = len(label.read_text().splitlines()) + 1
    label.write_text(label.read_text() + line + "\n")
    with pytest.raises(DatasetBuildError) as refused:
        import_corpus("xie", str(copy), tmp_path / "out")
    assert str(refused.value).startswith(f"{label}:{number}: ") and message in str(refused.value)
    assert not (tmp_path / "out" / "data").exists()


def test_files_and_lines_that_do_not_match_are_refused(extracted, tmp_path):
    copy = tmp_path / "Codecfake"
    shutil.copytree(extracted, copy)
    (copy / "test" / "C2" / "F02_p228_009.wav").write_bytes(b"RIFF")
    with pytest.raises(
        DatasetBuildError, match="test/C2: F02_p228_009.wav \\(and 0 more\\) in no line of C2.txt"
    ):
        import_corpus("xie", str(copy), tmp_path / "o1")
    (copy / "test" / "C2" / "F02_p228_009.wav").unlink()
    (copy / "dev" / "p227_002.wav").unlink()
    with pytest.raises(DatasetBuildError, match="1 file\\(s\\) of dev.txt missing, e.g. p227_002.wav"):
        import_corpus("xie", str(copy), tmp_path / "o2")
    shutil.rmtree(copy / "test" / "A3")
    with pytest.raises(DatasetBuildError, match="piece A3 is missing .* or import --pieces without it"):
        import_corpus("xie", str(copy), tmp_path / "o3", Options(pieces=["A3"]))
    report = import_corpus("xie", str(copy), tmp_path / "o4", Options(pieces=["C1", "A1"]))
    assert report["configs"] == ["A1", "C1"]  # test conditions alone: no bona fide config of their own
