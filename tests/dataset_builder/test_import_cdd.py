"""``codecfake import cdd``: CDD (a look-alike of its folders) as one config per codec and CoSG system,
labels and splits from the folders, speakers from the ASVspoof 5 protocols when given, XCodec2 test only,
anything else refused naming the file, and ``push`` refused until the licence is stated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard

from codecfake_cli.main import main
from codecfake_hf.files.hub_io import HubPushError
from dataset_builder import DatasetBuildError
from dataset_builder.corpora.cdd import Options
from dataset_builder.corpora.lookalike import CDD_COSG_SYSTEMS, CDD_SPEAKERS, make_cdd_lookalike
from dataset_builder.corpus_import import import_corpus
from dataset_builder.publishing import push_to_hub
from tests.dataset_builder.test_import_release import _imported_rows

CONFIGS = ["bonafide", "mimi", "xcodec2", "DescriptAudioCodec", "EnCodecVocos", *CDD_COSG_SYSTEMS]
FOLDER_SPLIT = {"T": "train", "D": "validation", "E": "test"}


@pytest.fixture(scope="module")
def cdd(tmp_path_factory) -> Path:
    return make_cdd_lookalike(tmp_path_factory.mktemp("cdd") / "CDD")


@pytest.fixture(scope="module")
def imported(cdd, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "cdd"
    import_corpus("cdd", str(cdd), out, Options(asvspoof5_protocols=[str(cdd / "protocols")], shard_size=3))
    return out


def _speakers(cdd: Path) -> dict[str, str]:
    return {
        line.split()[1]: line.split()[0]
        for path in (cdd / "protocols").glob("*.tsv")
        for line in path.read_text().splitlines()
    }


def test_every_file_is_one_row_with_its_bytes_and_the_label_split_and_speaker_of_its_folder(cdd, imported):
    files = {
        path.relative_to(cdd).as_posix(): path.read_bytes()
        for path in cdd.rglob("*")
        if path.suffix in (".wav", ".flac")
    }
    rows = _imported_rows(imported)
    assert len(rows) == len(files) == 10 + 10 * 3 + 4 + 10 * 2  # bona fide, CoRS (+ XCodec2 in test), CoSG
    speakers = _speakers(cdd)
    paths = {Path(name).name: name for name in files if not name.startswith("CoSG/")}
    for row in rows:
        stem = row["utterance_id"]
        if row["codec"] == "bonafide":
            source = paths[row["audio"]["path"]]
        else:  # CoRS_<split>/<codec folder>/<stem>.wav or CoSG/<system>/<split>/<system>_<stem>.wav
            (source,) = [
                key
                for key in files
                if key.endswith(f"/{row['audio']['path']}") and f"/{row['codec_name']}/" in key
            ]
        assert row["audio"]["bytes"] == files[source] and row["sampling_rate"] == 16000
        assert row["label"] == (1 if source.startswith("asvspoof5/") else 0)
        source_stem = stem.split("_", 1)[1] if row["codec"] in CDD_COSG_SYSTEMS else stem
        assert row["file"].startswith(f"data/{row['codec']}/{FOLDER_SPLIT[source_stem[0]]}-")
        assert row["speaker_id"] == (speakers[stem] if row["codec"] not in CDD_COSG_SYSTEMS else "")
    report = json.loads((imported / "build_report.json").read_text())
    assert report["configs"] == CONFIGS
    assert report["imported"]["configs"]["xcodec2"]["rows"] == {"train": 0, "validation": 0, "test": 4}
    assert report["imported"]["configs"]["xcodec2"]["codec_names"] == ["XCodec2"]
    assert report["imported"]["configs"]["EnCodecVocos"]["decoder_domain"] == "frequency"
    assert report["imported"]["configs"]["mimi"]["auxiliary"] == "semantic distillation"
    assert {split: set(info["speakers"]) for split, info in report["splits"].items()} == {
        split: set(names) for split, names in CDD_SPEAKERS.items()
    }
    assert datasets.load_dataset(str(imported), "xcodec2").keys() == {"test"}
    mimi = datasets.load_dataset(str(imported), "mimi")
    assert {split: len(rows) for split, rows in mimi.items()} == {"train": 8, "validation": 4, "test": 8}


def test_without_protocols_rows_have_no_speaker(cdd, tmp_path):
    report = import_corpus("cdd", str(cdd), tmp_path / "out")
    assert all(info["speakers"] == [] for info in report["splits"].values())
    assert "not known (no `--asvspoof5-protocols`)" in (tmp_path / "out" / "README.md").read_text()


def test_push_is_refused_until_the_licence_is_stated(imported, cdd, tmp_path):
    card = DatasetCard.load(imported / "README.md")
    assert card.data.to_dict()["license"] == ["unknown"]
    with pytest.raises(DatasetBuildError, match="not pushed: CDD's licence is not known to codecfake-hf"):
        push_to_hub(imported, "org/cdd")
    out = tmp_path / "licensed"
    import_corpus("cdd", str(cdd), out, Options(license="CC BY 4.0"))
    assert DatasetCard.load(out / "README.md").data.to_dict()["license"] == ["cc-by-4.0"]
    with pytest.raises(HubPushError, match="HF_HUB_OFFLINE is set"):  # the licence stated: push goes on
        push_to_hub(out, "org/cdd")


def _copy(cdd: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "CDD"
    shutil.copytree(cdd, copy)
    return copy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: shutil.copytree(c / "CoRS_test" / "XCodec2", c / "CoRS_train" / "XCodec2"),
         "XCodec2 is CDD's unseen codec, in CoRS_test only"),
        (lambda c: (c / "CoRS_dev" / "DescriptAudioCodec").rename(c / "CoRS_dev" / "DAC"),
         "codec 'DAC' is none of CDD's"),
        (lambda c: (c / "asvspoof5" / "flac_D" / "notes.txt").write_text("x"), "notes.txt: not a flac file"),
        (lambda c: (c / "CoSG" / "XTTS").rename(c / "CoSG" / "test"), "CoSG system 'test' looks like a split folder"),
        (lambda c: (c / "CoSG" / "stray.wav").write_bytes(b""), "'stray.wav' does not match --cosg-pattern"),
    ],
)  # fmt: skip
def test_a_folder_that_is_not_cdd_is_refused_naming_the_file(cdd, tmp_path, change, message):
    copy = _copy(cdd, tmp_path)
    change(copy)
    with pytest.raises(DatasetBuildError, match=message):
        import_corpus("cdd", str(copy), tmp_path / "out")
    assert not (tmp_path / "out" / "data").exists()


def test_protocols_that_do_not_fit_the_files_are_refused(cdd, tmp_path):
    copy = _copy(cdd, tmp_path)
    protocol = copy / "protocols" / "ASVspoof5.eval.track_1.tsv"
    protocol.write_text(protocol.read_text().replace("E_2001 ", "T_4850 "))  # a training speaker in eval
    with pytest.raises(DatasetBuildError, match="speaker\\(s\\) T_4850 are in more than one split"):
        import_corpus("cdd", str(copy), tmp_path / "o1", Options(asvspoof5_protocols=[str(protocol.parent)]))
    lines = protocol.read_text().splitlines()
    protocol.write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(DatasetBuildError, match="is in no ASVspoof 5 protocol given"):
        import_corpus("cdd", str(copy), tmp_path / "o2", Options(asvspoof5_protocols=[str(protocol.parent)]))


def test_the_command_line_takes_its_options(cdd, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["import", "cdd", str(cdd), "--out", str(out), "--license", "cc-by-4.0", "--shard-size", "2"])
        == 0
    )
    assert "configs bonafide, mimi, xcodec2" in capsys.readouterr().out
    assert len(list(out.glob("data/bonafide/train-*.parquet"))) == 2
    assert main(["import", "cdd", str(tmp_path), "--out", str(tmp_path / "o2")]) == 2
    assert "no asvspoof5/ nor CoRS_train/ in it" in capsys.readouterr().err
