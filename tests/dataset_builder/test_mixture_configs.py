"""Taxonomy columns and mixture configs on a tiny build (E and F3: time-domain decoders, F1: a
frequency-domain one; F1 and F3 are FunCodec): every row carries its codec's taxonomy,
``load_dataset(folder, "all")`` is the union of the parts, a held-out config leaves out exactly the
held-out subsets, a later build keeps the mixtures, and a bad spec is one line naming what is allowed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from codecfake_cli.main import main
from codecfake_hf.codecs.registry import TAXONOMY_FIELDS, get_spec
from codecfake_hf.data.mixtures import MixtureSpecError
from dataset_builder import DatasetBuildError
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.mixture_configs import add_mixtures
from dataset_builder.synthetic import make_synthetic_vctk

SUBSETS = ["E", "F1", "F3"]
OPTIONS = BuildOptions(tiny=True, shard_size=2, batch_size=4)
MIXTURES = ["all", "heldout-frequency=all-decoder_domain:frequency", "no-funcodec=all-family:funcodec"]
SPLIT_ROWS = {"train": 2, "validation": 2, "test": 2}  # bona fide utterances per split

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two clips each of a training (p225), validation (p226) and test (p227) speaker."""
    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92",
        speakers=("p225", "p226", "p227"),
        utterances_per_speaker=2,
        seconds=(0.3, 0.4),
    )


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mix") / "codecfake"
    build_codecfake(corpus, out, SUBSETS, OPTIONS, mixtures=MIXTURES)
    return out


def _configs(folder: Path) -> dict[str, list[dict]]:
    header = yaml.safe_load((folder / "README.md").read_text().split("---")[1])
    return {entry["config_name"]: entry["data_files"] for entry in header["configs"]}


def test_every_row_carries_its_codecs_taxonomy(built):
    for config in ["bonafide", *SUBSETS]:
        rows = [
            row
            for path in sorted((built / "data" / config).glob("*.parquet"))
            for row in pq.read_table(path).to_pylist()
        ]
        assert len(rows) == sum(SPLIT_ROWS.values())
        for field in TAXONOMY_FIELDS:
            expected = "bonafide" if config == "bonafide" else getattr(get_spec(config), field)
            assert {row[field] for row in rows} == {expected}, (config, field)
    assert {
        row["decoder_domain"] for row in pq.read_table(next((built / "data/F1").glob("*"))).to_pylist()
    } == {"frequency"}


def test_load_dataset_all_is_the_union_of_the_parts(built, tmp_path):
    import datasets

    union = datasets.load_dataset(str(built), "all", cache_dir=str(tmp_path))
    for split, count in SPLIT_ROWS.items():
        parts = {config: count for config in ["bonafide", *SUBSETS]}
        assert union[split].num_rows == sum(parts.values())
        codecs = union[split]["codec"]
        assert {codec: codecs.count(codec) for codec in set(codecs)} == parts
    assert set(TAXONOMY_FIELDS) <= set(union["train"].column_names)
    assert union["train"].features["label"].names == ["spoof", "bonafide"]


def test_a_held_out_config_leaves_out_exactly_the_held_out_subsets(built, tmp_path):
    import datasets

    from codecfake_hf.data.loading import load_labelled_dataset
    from codecfake_hf.evaluation.scoring import codecfake_test_sets

    report = json.loads((built / "build_report.json").read_text())
    assert report["mixtures"] == {
        "all": {"selection": "all", "subsets": SUBSETS, "held_out": []},
        "heldout-frequency": {"selection": "all-decoder_domain:frequency", "subsets": ["E", "F3"], "held_out": ["F1"]},
        "no-funcodec": {"selection": "all-family:funcodec", "subsets": ["E"], "held_out": ["F1", "F3"]},
    }  # fmt: skip
    configs = _configs(built)
    assert list(configs) == ["default", "bonafide", *SUBSETS, "all", "heldout-frequency", "no-funcodec"]
    for entry in configs["heldout-frequency"]:
        assert entry["path"] == [
            f"data/{folder}/{entry['split']}-*.parquet" for folder in ("bonafide", "E", "F3")
        ]
    held = datasets.load_dataset(str(built), "heldout-frequency", split="train", cache_dir=str(tmp_path))
    assert sorted(set(held["codec"])) == ["E", "F3", "bonafide"] and "frequency" not in held["decoder_domain"]
    training = load_labelled_dataset(built, "no-funcodec", "train")  # what train.py --subset loads
    assert sorted(set(training["codec"])) == ["E", "bonafide"]
    assert list(codecfake_test_sets(str(built), "all")) == SUBSETS  # mixtures are no test columns
    assert (
        "| heldout-frequency | mixture `all-decoder_domain:frequency`: E, F3; held out: F1 |"
        in (built / "README.md").read_text()
    )


def test_a_later_build_keeps_the_mixtures_and_the_command_adds_and_removes(built, corpus, tmp_path, capsys):
    folder = Path(shutil.copytree(built, tmp_path / "codecfake"))
    report = build_codecfake(corpus, folder, SUBSETS, OPTIONS)  # no --mixture this time
    assert list(report["mixtures"]) == ["all", "heldout-frequency", "no-funcodec"]
    assert list(_configs(folder))[-3:] == ["all", "heldout-frequency", "no-funcodec"]

    shards = {path: path.stat().st_mtime_ns for path in folder.glob("data/*/*.parquet")}
    assert main(["mixtures", str(folder), "--add", "only-f3=F3", "--remove", "no-funcodec"]) == 0
    assert f"held out: codecfake evaluate --dataset {folder} --subsets F1" in capsys.readouterr().out
    assert list(_configs(folder))[-3:] == ["all", "heldout-frequency", "only-f3"]
    assert json.loads((folder / "build_report.json").read_text())["mixtures"]["only-f3"]["subsets"] == ["F3"]
    assert {path: path.stat().st_mtime_ns for path in folder.glob("data/*/*.parquet")} == shards  # no audio


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("h=all-decoder_domain:freq", "decoder_domain 'freq' is not a value; allowed: time, frequency"),
        ("h=all-colour:red", "unknown taxonomy field 'colour'; fields are family, quantizer, auxiliary, decoder_domain"),
        ("h=all-quantizer:SQ", "quantizer:SQ selects no built subset (built subsets: E, F1, F3)"),
        ("E=all", "'E' is already a config"),
    ],
)  # fmt: skip
def test_a_bad_spec_is_one_line_naming_what_is_allowed(built, tmp_path, capsys, spec, message):
    folder = Path(shutil.copytree(built, tmp_path / "codecfake"))
    card = (folder / "README.md").read_bytes()
    assert main(["mixtures", str(folder), "--add", spec]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("codecfake mixtures: error: mixture ") and message in line
    assert (folder / "README.md").read_bytes() == card


def test_build_checks_the_specs_before_any_audio(corpus, tmp_path, capsys):
    out = tmp_path / "codecfake"
    code = main(["build", "--vctk", str(corpus), "--out", str(out), "--configs", "E", "--tiny",
                 "--mixture", "h=all-family:FunCodec"])  # fmt: skip
    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "family:FunCodec selects no built subset (built subsets: E)" in line
    assert not list(out.glob("data/*/*.parquet"))


def test_a_build_of_an_earlier_version_is_refused(built, tmp_path):
    folder = Path(shutil.copytree(built, tmp_path / "codecfake"))
    report = json.loads((folder / "build_report.json").read_text())
    del report["build_version"], report["mixtures"]  # as version 1 wrote it
    (folder / "build_report.json").write_text(json.dumps(report))
    with pytest.raises(DatasetBuildError, match="written by build version 1, this codecfake reads version 2"):
        add_mixtures(folder, ["all"])
    with pytest.raises(MixtureSpecError):
        add_mixtures(built, ["nope"])


def test_train_on_a_held_out_config_and_put_it_in_the_matrix(built, train_script, tmp_path):
    import pandas as pd

    run = tmp_path / "run"
    code = train_script.main(["--dataset", str(built), "--subset", "heldout-frequency", "--model", "tiny",
                              "--epochs", "1", "--batch-size", "2", "--num-workers", "0", "--log-with", "none",
                              "--output-dir", str(run)])  # fmt: skip
    assert code == 0
    assert json.loads((run / "best/training_config.json").read_text())["subset"] == "heldout-frequency"
    matrix_dir = tmp_path / "matrix"
    assert main(["matrix", "--models", str(run / "best"), "--dataset", str(built), "--output-dir", str(matrix_dir),
                 "--batch-size", "4"]) == 0  # fmt: skip
    matrix = pd.read_csv(matrix_dir / "cross_test_eer.csv", index_col=0)
    assert list(matrix.index) == ["heldout-frequency"] and list(matrix.columns) == SUBSETS
