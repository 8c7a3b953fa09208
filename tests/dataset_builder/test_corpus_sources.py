"""Any speech corpus as the bona fide source: a synthetic audiofolder corpus and a synthetic Hugging
Face dataset (``save_to_disk``) each build, with tiny codecs, into configs that ``load_dataset`` loads
and training uses; the split rules, the licence record, and one-line errors for bad sources."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile as sf
import yaml

from codecfake_cli.main import main
from codecfake_hf import training
from dataset_builder import DatasetBuildError
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.build_report import read_build_report
from dataset_builder.corpora.audiofolder import prepare_audiofolder
from dataset_builder.corpora.hf_dataset import prepare_hf_dataset
from dataset_builder.corpus import Listed, assign_splits
from dataset_builder.source_options import SourceOptions

RATE = 16000
SPEAKERS = ("anna", "ben", "cleo", "dan", "eve")
OPTIONS = BuildOptions(tiny=True, shard_size=4, batch_size=4)
pytestmark = pytest.mark.usefixtures("one_thread")


def _clip(seed: int) -> np.ndarray:
    """A 0.3 s harmonic clip at 16 kHz."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(0.3 * RATE)) / RATE
    pitch = rng.uniform(100, 220)
    return (0.2 * sum(np.sin(2 * np.pi * pitch * k * time) / k for k in range(1, 4))).astype(np.float32)


@pytest.fixture(scope="module")
def audiofolder(tmp_path_factory) -> Path:
    """Five speakers x 2 clips in subfolders, metadata.csv without a split column, plus one empty file."""
    root = tmp_path_factory.mktemp("audiofolder") / "corpus"
    lines = ["file_name,speaker_id,text"]
    for number, speaker in enumerate(SPEAKERS):
        (root / "clips" / speaker).mkdir(parents=True)
        for index in range(2):
            sf.write(root / "clips" / speaker / f"{index}.wav", _clip(10 * number + index), RATE)
            lines.append(f"clips/{speaker}/{index}.wav,{speaker},Sentence {index} by {speaker}.")
    (root / "clips" / "anna" / "broken.wav").write_bytes(b"")
    lines.append("clips/anna/broken.wav,anna,Broken.")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def saved_dataset(tmp_path_factory) -> Path:
    """A DatasetDict (train/validation/test, audio as arrays) saved with ``save_to_disk``; the speaker
    and transcript columns are named ``speaker`` and ``sentence``."""
    splits = {"train": ("anna", "ben", "cleo"), "validation": ("dan",), "test": ("eve",)}
    parts = {}
    for split, speakers in splits.items():
        rows = [
            {
                "audio": {"array": _clip(7 * i + n), "sampling_rate": RATE},
                "speaker": s,
                "sentence": f"{s} {i}",
                "age": 30,
            }
            for n, s in enumerate(speakers)
            for i in range(2)
        ]
        parts[split] = datasets.Dataset.from_list(rows).cast_column("audio", datasets.Audio())
    folder = tmp_path_factory.mktemp("hf") / "saved"
    datasets.DatasetDict(parts).save_to_disk(str(folder))
    return folder


@pytest.fixture()
def fresh_accelerate():
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def _train_one_epoch(dataset: Path, output_dir: Path) -> list[dict]:
    config = training.TrainingConfig(
        subset="E", dataset=str(dataset), model="tiny", output_dir=str(output_dir), epochs=1, batch_size=2,
        num_workers=0, log_with=["none"],
    )  # fmt: skip
    training.train(config)
    return [json.loads(line) for line in (output_dir / "log.jsonl").read_text().splitlines()]


def test_audiofolder_builds_configs_that_load_and_train(audiofolder, tmp_path, caplog, fresh_accelerate):
    out = tmp_path / "built"
    with caplog.at_level(logging.WARNING):
        report = build_codecfake(SourceOptions(source=f"audiofolder:{audiofolder}"), out, ["E"], OPTIONS)
    assert "--source-license" in caplog.text  # no licence given: warned, recorded as unknown
    source = report["source"]
    assert source["kind"] == "audiofolder" and source["license"] == "unknown"
    assert source["split_rule"]["rule"] == "seeded fractions by speaker" and source["sampling_rates"] == [
        RATE
    ]
    assert [e["path"] for e in report["excluded"]] == ["clips/anna/broken.wav"]  # reported as VCTK's are
    speakers = {split: set(info["speakers"]) for split, info in report["splits"].items()}
    assert all(speakers[split] for split in speakers)  # 5 speakers, 10 %: one each for validation and test
    assert not (speakers["train"] & speakers["validation"] or speakers["train"] & speakers["test"])
    assert sum(info["utterances"] for info in report["splits"].values()) == 10
    loaded = datasets.load_dataset(str(out), "E", cache_dir=str(tmp_path / "cache"))
    for split in ("train", "validation", "test"):
        rows = loaded[split]
        assert sorted(rows["label"]) == sorted([0, 1] * report["splits"][split]["utterances"])
        assert set(rows["speaker_id"]) == speakers[split]
    assert loaded["train"][0]["audio"]["sampling_rate"] in (RATE, 24000)
    card = (out / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert "unknown" in header["license"] and "source_datasets" not in header
    assert "seeded fractions by speaker" in card
    # the card describes this corpus, not VCTK: no VCTK claims, its language left to the publisher
    assert "language" not in header and "vctk" not in header["tags"]
    for vctk_claim in (
        "CSTR VCTK corpus",
        "VCTK alone",
        "VCTK's 48 kHz",
        "p226, p229",
        "VCTK audio",
        "yamagishi",
    ):
        assert vctk_claim not in card, vctk_claim
    assert "# CodecFake (corpus resynthesized by neural audio codecs)" in card
    assert "the bona fide speech is the local audiofolder corpus `corpus`" in " ".join(card.split())
    assert "bona fide at the corpus' own rate (16000 Hz)" in " ".join(card.split())
    assert (
        "| bonafide | corpus | 16000 |" in card
        and "| split | utterances | speakers | hours (bona fide) |" in card
    )
    assert read_build_report(out)["source"] == source  # what push and the next build read back
    log = _train_one_epoch(out, tmp_path / "run")
    assert log and all(np.isfinite(entry["loss"]) for entry in log if "loss" in entry)


def test_saved_hf_dataset_builds_from_the_command_line_and_trains(
    saved_dataset, tmp_path, capsys, fresh_accelerate
):
    out = tmp_path / "built"
    argv = ["build", "--source", f"hf:{saved_dataset}", "--speaker-column", "speaker", "--text-column",
            "sentence", "--source-license", "cc-by-4.0", "--subsets", "E", "--out", str(out), "--tiny",
            "--shard-size", "4", "--batch-size", "4"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    report = json.loads((out / "build_report.json").read_text())
    assert report["source"]["split_rule"] == {"rule": "source splits"}
    assert {split: info["speakers"] for split, info in report["splits"].items()} == {
        "train": ["anna", "ben", "cleo"],
        "validation": ["dan"],
        "test": ["eve"],
    }
    loaded = datasets.load_dataset(str(out), "E", cache_dir=str(tmp_path / "cache"))
    assert {split: len(rows) for split, rows in loaded.items()} == {"train": 12, "validation": 4, "test": 4}
    assert set(loaded["validation"]["text"]) == {"dan 0", "dan 1"}
    header = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert "cc-by-4.0" in header["license"]
    # a second run resumes: the audio it took out of the dataset is unchanged, so nothing is redone
    shards = {p: p.stat().st_mtime_ns for p in (out / "data").rglob("*.parquet")}
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "data").rglob("*.parquet")} == shards
    log = _train_one_epoch(out, tmp_path / "run")
    assert log


def test_a_local_dataset_folder_is_streamed_and_one_split_is_split_by_listed_speakers(audiofolder, tmp_path):
    options = SourceOptions(source_split="train", validation_speakers=["ben"], test_speakers=["cleo", "dan"])
    manifest = prepare_hf_dataset(str(audiofolder), options, tmp_path)
    assert manifest.source["split_rule"]["rule"] == "listed speakers"
    by_split = {split: {u.speaker_id for u in manifest.utterances if u.split == split} for split in ("train", "validation", "test")}  # fmt: skip
    assert by_split == {"train": {"anna", "eve"}, "validation": {"ben"}, "test": {"cleo", "dan"}}
    assert all(Path(u.path).is_relative_to(audiofolder) for u in manifest.utterances)  # read where they lie


def test_split_rules():
    listed = [Listed(s, f"{s}_{i}", f"/x/{s}_{i}.wav", "", None) for s in "abcdefghij" for i in range(2)]
    utterances, rule = assign_splits(listed, SourceOptions(validation_fraction=0.2, test_fraction=0.1), "x")
    speakers = {split: {u.speaker_id for u in utterances if u.split == split} for split in ("train", "validation", "test")}  # fmt: skip
    assert [len(speakers[s]) for s in ("train", "validation", "test")] == [7, 2, 1]
    assert rule == {
        "rule": "seeded fractions by speaker",
        "validation_fraction": 0.2,
        "test_fraction": 0.1,
        "seed": 0,
    }
    again, _ = assign_splits(listed[::-1], SourceOptions(validation_fraction=0.2, test_fraction=0.1), "x")
    assert again == utterances  # the seed decides, not the listing order
    other, _ = assign_splits(
        listed, SourceOptions(validation_fraction=0.2, test_fraction=0.1, split_seed=1), "x"
    )
    assert other != utterances
    anonymous = [Listed("", f"u{i}", f"/x/u{i}.wav", "", None) for i in range(10)]
    by_utterance, rule = assign_splits(anonymous, SourceOptions(), "x")
    assert rule["rule"] == "seeded fractions by utterance"
    assert sorted(u.split for u in by_utterance).count("validation") == 1
    own = [Listed("a", "a1", "/a1", "", "train"), Listed("a", "a2", "/a2", "", "dev")]
    assert [u.split for u in assign_splits(own, SourceOptions(), "x")[0]] == ["train", "validation"]
    with pytest.raises(DatasetBuildError, match="split 'holdout' is none of"):
        assign_splits([Listed("a", "h1", "/h1", "", "holdout"), *own], SourceOptions(), "x")
    with pytest.raises(DatasetBuildError, match="listed speaker.s. zed not in the corpus"):
        assign_splits(listed, SourceOptions(test_speakers=["zed"]), "x")


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_audiofolder_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(DatasetBuildError) as error:
        prepare_audiofolder(tmp_path, SourceOptions())
    assert str(tmp_path / "metadata.csv") in _one_line(error) and "file_name column" in str(error.value)
    (tmp_path / "metadata.csv").write_text("path,speaker_id\na.wav,s\n")
    with pytest.raises(
        DatasetBuildError, match=r"no file_name column \(columns: path, speaker_id\); add"
    ) as error:
        prepare_audiofolder(tmp_path, SourceOptions())
    _one_line(error)
    (tmp_path / "metadata.csv").write_text("file_name,speaker_id\na.wav,s\n")
    with pytest.raises(DatasetBuildError, match=r"no column 'spk' \(columns: file_name, speaker_id\); fix --speaker-column"):  # fmt: skip
        prepare_audiofolder(tmp_path, SourceOptions(speaker_column="spk"))
    (tmp_path / "metadata.csv").write_text("file_name\n../outside.wav\n")
    with pytest.raises(DatasetBuildError, match="line 2: file_name '../outside.wav' is not a path inside"):
        prepare_audiofolder(tmp_path, SourceOptions())


def test_hf_errors_name_the_dataset_column_and_the_fix(saved_dataset, tmp_path):
    with pytest.raises(DatasetBuildError, match=r"no column 'voice' \(columns: audio, speaker, sentence, age\); fix --audio-column") as error:  # fmt: skip
        prepare_hf_dataset(str(saved_dataset), SourceOptions(audio_column="voice"), tmp_path)
    assert str(saved_dataset) in _one_line(error)
    with pytest.raises(DatasetBuildError, match="column 'age' is .*not audio"):
        prepare_hf_dataset(str(saved_dataset), SourceOptions(audio_column="age"), tmp_path)
    with pytest.raises(DatasetBuildError, match=r"no split 'dev' \(splits: train, validation, test\); fix --source-split"):  # fmt: skip
        prepare_hf_dataset(str(saved_dataset), SourceOptions(source_split="dev"), tmp_path)


def test_the_command_line_needs_exactly_one_corpus(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "o")]) == 2
    assert "--vctk PATH or --source" in capsys.readouterr().err
    assert main(["build", "--source", "folder:x", "--out", str(tmp_path / "o")]) == 2
    assert "expected vctk:PATH, audiofolder:PATH or hf:ID" in capsys.readouterr().err


def test_any_hub_licence_id_reaches_the_card(audiofolder, tmp_path, caplog):
    """``--source-license`` with any of the Hub's ids lands in the card's ``license``; a licence the Hub
    has no id for is ``other`` with its name, and the build warns (suggesting the closest id)."""
    from dataset_builder.publishing import render_card

    out = tmp_path / "built"
    source = SourceOptions(source=f"audiofolder:{audiofolder}", source_license="gpl-3.0")
    report = build_codecfake(source, out, ["E"], OPTIONS)
    header = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert header["license"] == ["gpl-3.0", "mit"] and "license_name" not in header
    assert "| bonafide | gpl-3.0 | gpl-3.0 |" in (out / "README.md").read_text()
    for stated, expected in (
        ("cc-by-sa-3.0", "cc-by-sa-3.0"),
        ("bsd-3-clause", "bsd-3-clause"),
        ("odc-by", "odc-by"),
        ("GNU Affero General Public License v3.0", "agpl-3.0"),
        ("CC BY-NC-ND 4.0", "cc-by-nc-nd-4.0"),
    ):
        report["source"]["license"] = stated
        assert render_card(report).data.license == sorted([expected, "mit"]), stated
    report["source"]["license"] = "Lab Terms v2"
    data = render_card(report).data
    assert data.license == ["mit", "other"] and data.license_name == "lab-terms-v2"

    with caplog.at_level(logging.WARNING):
        typo = SourceOptions(source=f"audiofolder:{audiofolder}", source_license="cc-by-40")
        assert prepare_audiofolder(audiofolder, typo).report_entry()["source"]["license"] == "cc-by-40"
    assert "no Hub licence id or name (did you mean cc-by-4.0?)" in caplog.text
    assert "repositories-licenses" in caplog.text


def test_a_new_speech_corpus_is_one_module_and_one_row(audiofolder, tmp_path, monkeypatch):
    """A corpus module (``prepare`` and ``MANIFEST``) and its row in the table are all a build needs:
    ``--source KIND:LOCATION`` reaches it, and a launched build's other processes read its listing back
    into its ``MANIFEST``."""
    import dataclasses
    import sys
    import types

    from dataset_builder import corpora
    from dataset_builder.corpus import CorpusManifest

    module = types.ModuleType("tests_lab_corpus")

    def prepare(location, source, options, cache_dir):
        listed = prepare_audiofolder(location, source)
        return dataclasses.replace(listed, source=listed.source | {"kind": "lab"})

    module.prepare, module.MANIFEST = prepare, CorpusManifest
    monkeypatch.setitem(sys.modules, module.__name__, module)
    row = corpora.SpeechCorpus("lab", "our lab's recordings", module.__name__)
    monkeypatch.setitem(corpora.CORPUS_KINDS, "lab", row)
    monkeypatch.setitem(corpora.SOURCE_KINDS, "lab", row)
    source = SourceOptions(source=f"lab:{audiofolder}", source_license="cc-by-4.0")
    report = build_codecfake(source, tmp_path / "built", [], OPTIONS)
    assert report["source"]["kind"] == "lab" and report["configs"] == ["bonafide"]
    assert sum(split["utterances"] for split in report["splits"].values()) == 10  # the broken clip left out
