"""``codecfake import release``: the CodecFake Hub release (a look-alike written from its facts) copied into
this project's layout: the audio bytes unchanged, counts, speaker split, labels and their checks, codec
configs and an unknown codec, the card, resume after SIGKILL, two processes writing the bytes of one, the
Hub streamed one shard at a time, and the result loaded, trained on and evaluated like a build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from codecfake_cli.main import main
from codecfake_hf.codecs.registry import TAXONOMY_FIELDS, get_spec
from dataset_builder import DatasetBuildError
from dataset_builder.corpora import IMPORT_KINDS, SOURCE_KINDS, corpus_module
from dataset_builder.corpora.lookalike import (
    UNKNOWN_CODEC,
    make_release_lookalike,
    release_rows,
    write_release,
)
from dataset_builder.corpora.release import CODEC_NAMES, Options
from dataset_builder.corpus_import import import_corpus
from tests.dataset_builder.test_build_processes import _files as published_files

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLIT_OF = {"p226": "validation", "p229": "validation", "p227": "test", "p228": "test"}
#: 7 speakers x 2 utterances x (15 codecs + the unknown one + genuine), in 4 shards
ROWS = 7 * 2 * 17


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    return make_release_lookalike(tmp_path_factory.mktemp("release") / "CodecFake", shards=4)


@pytest.fixture(scope="module")
def imported(snapshot, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "codecfake"
    import_corpus("release", str(snapshot), out)
    return out


def _source_rows(snapshot: Path) -> list[dict]:
    return [
        row for path in sorted(snapshot.glob("data/*.parquet")) for row in pq.read_table(path).to_pylist()
    ]


def _imported_rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted(out.glob("data/*/*.parquet")):
        rows += [row | {"file": path.relative_to(out).as_posix()} for row in pq.read_table(path).to_pylist()]
    return rows


def test_every_row_is_copied_once_with_its_bytes_labels_split_and_rate(snapshot, imported):
    import soundfile

    source = {(row["codec_name"], row["audio"]["path"]): row for row in _source_rows(snapshot)}
    rows = _imported_rows(imported)
    assert len(source) == ROWS and len(rows) == ROWS  # every row, none twice
    for row in rows:
        original = source[row["codec_name"], row["audio"]["path"]]
        assert row["audio"]["bytes"] == original["audio"]["bytes"]  # verbatim: never decoded and re-encoded
        assert row["speaker_id"] == original["speaker_id"]
        assert row["label"] == (1 if original["label"] == "genuine" else 0)
        config = (
            "bonafide"
            if row["codec_name"] == "genuine"
            else CODEC_NAMES.get(row["codec_name"], UNKNOWN_CODEC)
        )
        split = SPLIT_OF.get(row["speaker_id"], "train")
        assert row["codec"] == config and row["file"].startswith(f"data/{config}/{split}-")
        assert row["utterance_id"] == row["audio"]["path"].split("+")[1].removesuffix(".wav")  # p225_001
        assert (
            row["sampling_rate"] == soundfile.info(__import__("io").BytesIO(row["audio"]["bytes"])).samplerate
        )
        if config in CODEC_NAMES.values():
            assert row["sampling_rate"] == get_spec(config).sampling_rate
            assert {field: row[field] for field in TAXONOMY_FIELDS} == {
                field: getattr(get_spec(config), field) for field in TAXONOMY_FIELDS
            }
        elif config == "bonafide":
            assert {row[field] for field in TAXONOMY_FIELDS} == {"bonafide"}
        else:
            assert {row[field] for field in TAXONOMY_FIELDS} == {"unknown"}
    report = json.loads((imported / "build_report.json").read_text())
    assert report["configs"] == ["bonafide", *CODEC_NAMES.values(), UNKNOWN_CODEC]
    assert report["imported"]["configs"]["E"]["rows"] == {"train": 6, "validation": 4, "test": 4}
    assert report["imported"]["configs"]["D3"]["sampling_rates"] == [44100]
    speakers = [set(report["splits"][split]["speakers"]) for split in ("train", "validation", "test")]
    assert speakers[1] == {"p226", "p229"} and speakers[2] == {"p227", "p228"}
    assert not speakers[0] & speakers[1] and not speakers[0] & speakers[2] and not speakers[1] & speakers[2]
    assert report["imported"]["shared_speakers"] == {}


def test_the_report_holds_the_sha256_of_every_input_shard(snapshot, imported):
    from codecfake_hf.files.hub_io import sha256_file

    report = json.loads((imported / "build_report.json").read_text())
    expected = {
        path.relative_to(snapshot).as_posix(): sha256_file(path) for path in snapshot.glob("data/*.parquet")
    }
    assert {item["name"]: item["sha256"] for item in report["imported"]["inputs"]} == expected
    assert (
        report["imported"]["hub_id"] == "rogertseng/CodecFake"
        and report["imported"]["license"] == "cc-by-4.0"
    )


def test_the_unknown_codec_gets_a_config_of_its_own_and_is_reported(imported):
    report = json.loads((imported / "build_report.json").read_text())
    entry = report["imported"]["configs"][UNKNOWN_CODEC]
    assert entry["codec_names"] == [UNKNOWN_CODEC] and entry["family"] == "unknown"
    assert UNKNOWN_CODEC in report["mixtures"]["all"]["subsets"]
    card = (imported / "README.md").read_text()
    assert f"| {UNKNOWN_CODEC} | `{UNKNOWN_CODEC}` | unknown |" in card
    dataset = datasets.load_dataset(str(imported), UNKNOWN_CODEC, split="test")
    assert sorted(set(dataset["codec"])) == ["bonafide", UNKNOWN_CODEC]


def test_the_card_parses_and_makes_every_config_loadable(imported):
    card = DatasetCard.load(imported / "README.md")
    data = card.data.to_dict()
    assert data["license"] == ["cc-by-4.0"] and data["source_datasets"] == ["rogertseng/CodecFake"]
    names = [entry["config_name"] for entry in data["configs"]]
    assert names[:3] == ["default", "bonafide", "A"] and {"all", "heldout-frequency"} <= set(names)
    assert (
        "Wu, Haibin and Tseng, Yuan and Lee, Hung-yi" in card.text and "doi = {10.7488/ds/2645}" in card.text
    )
    assert "CC BY 4.0" in card.text and "sha256" in card.text
    assert datasets.get_dataset_config_names(str(imported)) == names
    held_out = json.loads((imported / "build_report.json").read_text())["mixtures"]["heldout-frequency"]
    assert held_out["held_out"] == ["F1", "F2"]  # the frequency-domain decoders: the test of this mixture


def test_load_dataset_gives_each_row_at_its_own_rate(imported):
    from codecfake_hf.data.loading import load_labelled_dataset

    dataset = datasets.load_dataset(str(imported), "E")
    assert {split: len(rows) for split, rows in dataset.items()} == {"train": 12, "validation": 8, "test": 8}
    assert dataset["train"].features["label"].names == ["spoof", "bonafide"]
    mixed = datasets.load_dataset(str(imported), "all", split="test")
    assert sorted(set(mixed["sampling_rate"])) == [16000, 24000, 44100]
    for row in mixed:
        assert row["audio"].get_all_samples().sample_rate == row["sampling_rate"]
    labelled = load_labelled_dataset(imported, "E", "validation")
    assert sorted(labelled["label"]) == [0] * 4 + [1] * 4 and set(labelled["codec"]) == {"E", "bonafide"}


#: A pattern without a codec_name group, for rows whose path cannot name their codec.
_NO_CODEC_GROUP = r"[^+]+\+(?P<utterance_id>(?P<speaker_id>[^_]+)_\d+)\.wav"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label", "bonafide", "label 'bonafide' is neither 'genuine' (bona fide) nor 'spoofing' (spoof)"),
        ("label", "Genuine", "label 'Genuine' is neither 'genuine'"),
        ("label", "1", "label '1' is neither 'genuine'"),
        ("label", "genuine", "label 'genuine' but codec_name 'audiodec_24k_320d'"),
        ("path", "p225_001.wav", "audio path 'p225_001.wav' does not match --path-pattern"),
        ("path", "audiodec_24k_320d+p299_001.wav", "names speaker_id 'p299', the row's speaker_id is 'p225'"),
        ("path", "encodec_24khz+p225_001.wav", "names codec_name 'encodec_24khz', the row's codec_name is"),
        ("codec_name", "a/b", "codec_name 'a/b' is no codec of the paper and cannot name a config"),
        ("codec_name", "e", "codec_name 'e' is no codec of the paper and cannot name a config"),
    ],
)
def test_a_row_that_contradicts_the_facts_is_refused_naming_shard_row_and_value(
    tmp_path, field, value, message
):
    rows = release_rows(speakers=("p225", "p226"), utterances_per_speaker=1)
    first_of_shard_1 = len(rows) // 4  # 34 rows in 4 shards: row 8, audiodec_24k_320d of p225
    row = rows[first_of_shard_1]
    assert (row["codec_name"], row["speaker_id"]) == ("audiodec_24k_320d", "p225")
    if field == "path":
        row["audio"]["path"] = value
    else:
        row[field] = value
    snapshot = write_release(tmp_path / "release", rows, shards=4)
    options = Options(path_pattern=_NO_CODEC_GROUP) if field == "codec_name" else Options()
    with pytest.raises(DatasetBuildError) as refused:
        import_corpus("release", str(snapshot), tmp_path / "out", options)
    assert str(refused.value).startswith("data/train-00001-of-00004.parquet row 0: "), str(refused.value)
    assert message in str(refused.value)
    assert not (tmp_path / "out" / "build_report.json").exists() and not list(
        tmp_path.glob("out/data/*/*.tmp")
    )


def test_both_label_polarities_in_the_input_map_to_bona_fide_one(tmp_path):
    """The strings decide: bona fide rows first or last in the shard, the label comes out 1 for genuine."""
    rows = release_rows(speakers=("p225", "p226"), utterances_per_speaker=1, codec_names=("encodec_24khz",))
    for order, name in ((rows, "as"), (rows[::-1], "reversed")):
        snapshot = write_release(tmp_path / name, order, shards=1)
        import_corpus("release", str(snapshot), tmp_path / f"out-{name}")
        got = {(row["codec_name"], row["label"]) for row in _imported_rows(tmp_path / f"out-{name}")}
        assert got == {("genuine", 1), ("encodec_24khz", 0)}


def test_a_row_published_twice_stops_the_import_before_the_card(tmp_path):
    rows = release_rows(speakers=("p225", "p226"), utterances_per_speaker=1, codec_names=("encodec_24khz",))
    snapshot = write_release(tmp_path / "release", [*rows, rows[0]], shards=2)  # row 0 again, in shard 1
    with pytest.raises(DatasetBuildError) as refused:
        import_corpus("release", str(snapshot), tmp_path / "out")
    assert str(refused.value).startswith(
        "utterance p225_001 of config E is in data/train-00000-of-00002.parquet and in "
        "data/train-00001-of-00002.parquet: the corpus holds it twice"
    )
    assert not (tmp_path / "out" / "README.md").exists()


def test_a_shard_with_an_unexpected_or_missing_column_is_refused(tmp_path):
    rows = release_rows(speakers=("p225",), utterances_per_speaker=1, codec_names=("encodec_24khz",))
    snapshot = write_release(tmp_path / "extra", [row | {"language": "en"} for row in rows], shards=1)
    with pytest.raises(
        DatasetBuildError, match=r"data/train-00000-of-00001.parquet: columns .*\(unexpected: language\)"
    ):
        import_corpus("release", str(snapshot), tmp_path / "out")
    rows = [{key: value for key, value in row.items() if key != "speaker_id"} for row in rows]
    snapshot = write_release(tmp_path / "missing", rows, shards=1, datalist=False)
    with pytest.raises(DatasetBuildError, match=r"\(missing: speaker_id\)"):
        import_corpus("release", str(snapshot), tmp_path / "out2")


def test_the_path_pattern_option_reads_another_file_name_form(tmp_path):
    rows = release_rows(speakers=("p225", "p226"), utterances_per_speaker=1, codec_names=("encodec_24khz",))
    for row in rows:  # <codec_name>/<speaker>/<utterance>.flac
        speaker, utterance = row["audio"]["path"].split("+")[1].removesuffix(".wav").split("_")
        row["audio"]["path"] = f"{row['codec_name']}/{speaker}/{speaker}_{utterance}.flac"
    snapshot = write_release(tmp_path / "release", rows, shards=1)
    with pytest.raises(DatasetBuildError, match="does not match --path-pattern"):
        import_corpus("release", str(snapshot), tmp_path / "refused")
    pattern = r"(?P<codec_name>[^/]+)/(?P<speaker_id>[^/]+)/(?P<utterance_id>[^/]+)\.flac"
    import_corpus("release", str(snapshot), tmp_path / "out", Options(path_pattern=pattern))
    assert sorted({row["utterance_id"] for row in _imported_rows(tmp_path / "out")}) == [
        "p225_001",
        "p226_001",
    ]
    with pytest.raises(DatasetBuildError, match="has no group"):
        import_corpus("release", str(snapshot), tmp_path / "bad", Options(path_pattern=r"(?P<id>.*)"))


def test_the_bona_fide_codec_name_is_an_option(tmp_path):
    rows = release_rows(speakers=("p225",), utterances_per_speaker=1, codec_names=("encodec_24khz",))
    for row in rows:
        if row["codec_name"] == "genuine":
            row["codec_name"], row["audio"]["path"] = (
                "vctk",
                row["audio"]["path"].replace("genuine+", "vctk+"),
            )
    snapshot = write_release(tmp_path / "release", rows, shards=1)
    with pytest.raises(DatasetBuildError, match="label 'genuine' but codec_name 'vctk'"):
        import_corpus("release", str(snapshot), tmp_path / "refused")
    import_corpus("release", str(snapshot), tmp_path / "out", Options(bonafide_codec_name="vctk"))
    assert {row["codec"] for row in _imported_rows(tmp_path / "out") if row["codec_name"] == "vctk"} == {
        "bonafide"
    }


def test_listed_speakers_replace_the_release_split(snapshot, tmp_path):
    options = Options(validation_speakers=["p230"], test_speakers=["s5", "p225"])
    report = import_corpus("release", str(snapshot), tmp_path / "out", options)
    assert report["splits"]["validation"]["speakers"] == ["p230"]
    assert report["splits"]["test"]["speakers"] == ["p225", "s5"]
    assert report["imported"]["reference_counts"] == {}  # the paper's counts are those of its own split
    with pytest.raises(
        DatasetBuildError, match="listed speaker\\(s\\) p999 have no row; check --validation-speakers"
    ):
        import_corpus("release", str(snapshot), tmp_path / "typo", Options(test_speakers=["p999"]))


def test_datalist_csv_is_not_read(snapshot, imported, tmp_path):
    copy = tmp_path / "snapshot"
    (copy / "data").mkdir(parents=True)
    for path in snapshot.glob("data/*.parquet"):
        (copy / "data" / path.name).symlink_to(path)
    (copy / "datalist.csv").write_text("not,the,csv\n")
    import_corpus("release", str(copy), tmp_path / "out")
    assert published_files(tmp_path / "out").keys() == published_files(imported).keys()
    assert all(
        pq.read_table(tmp_path / "out" / name).to_pylist() == pq.read_table(imported / name).to_pylist()
        for name in published_files(imported)
        if name.endswith(".parquet")
    )


def test_bad_sources_and_folders_are_one_line_errors(tmp_path, imported, capsys):
    (tmp_path / "empty").mkdir()
    cases = [
        (
            ["import", "release", str(tmp_path / "nope"), "--out", str(tmp_path / "o1")],
            "no such folder, and not a Hub id",
        ),
        (["import", "release", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")], "no data/*.parquet"),
        (
            ["import", "xie", str(tmp_path / "nope"), "--out", str(tmp_path / "o3")],
            "no such folder; pass the folder of Codecfake's zips",
        ),
        (
            ["import", "asvspoof2019", str(tmp_path / "empty"), "--out", str(imported)],
            "holds an import of release",
        ),
        (
            ["import", "release", "rogertseng/CodecFake", "--out", str(tmp_path / "o4")],
            "HF_HUB_OFFLINE is set",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert (
            error.count("\n") == 1 and error.startswith("codecfake import: error: ") and message in error
        ), error
    assert list(IMPORT_KINDS) == ["release", "codecfake-plus", "xie", "cdd", "asvspoof2019"]
    assert list(SOURCE_KINDS) == ["vctk", "audiofolder", "hf"]
    with pytest.raises(DatasetBuildError, match="unknown corpus kind 'vctk'"):
        corpus_module("vctk")


def test_an_import_refuses_a_folder_holding_a_build(bonafide_build, snapshot):
    with pytest.raises(DatasetBuildError, match="holds a codecfake build"):
        import_corpus("release", str(snapshot), bonafide_build)


def test_mixtures_can_be_added_to_an_imported_folder(snapshot, tmp_path):
    out = tmp_path / "out"
    import_corpus("release", str(snapshot), out, mixtures=["freq=decoder_domain:frequency"])
    report = json.loads((out / "build_report.json").read_text())
    assert report["mixtures"]["freq"]["subsets"] == ["F1", "F2"]
    assert main(["mixtures", str(out), "--add", "no-dac=all-family:dac"]) == 0
    report = json.loads((out / "build_report.json").read_text())
    assert report["mixtures"]["no-dac"]["held_out"] == ["D1", "D2", "D3"]
    assert (
        UNKNOWN_CODEC in report["mixtures"]["no-dac"]["subsets"]
    )  # the unknown codec's labels match no term
    assert "no-dac" in datasets.get_dataset_config_names(str(out))
    import_corpus("release", str(snapshot), out)  # a rerun keeps the mixtures the folder records
    assert set(json.loads((out / "build_report.json").read_text())["mixtures"]) >= {"freq", "no-dac", "all"}


# --- the Hub, streamed -------------------------------------------------------------------------


class _FakeHub:
    """``rogertseng/CodecFake`` served from a local snapshot through huggingface_hub's own API names."""

    def __init__(self, snapshot: Path, monkeypatch, corrupt: str | None = None) -> None:
        import huggingface_hub
        from huggingface_hub.hf_api import RepoFile

        from codecfake_hf.files.hub_io import sha256_file

        self.snapshot, self.downloads, self.most_at_once = snapshot, [], 0
        self.files = [
            RepoFile(
                path=path.relative_to(snapshot).as_posix(),
                size=path.stat().st_size,
                oid="blob",
                lfs={"size": path.stat().st_size, "oid": sha256_file(path), "pointerSize": 134},
            )  # fmt: skip
            for path in sorted(snapshot.glob("data/*.parquet"))
        ]
        self.corrupt = corrupt
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", self.dataset_info)
        monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_tree", self.list_repo_tree)
        monkeypatch.setattr(huggingface_hub, "hf_hub_download", self.hf_hub_download)

    def dataset_info(self, repo_id, revision=None, **kwargs):
        assert repo_id == "rogertseng/CodecFake" and revision == "main"
        return type("Info", (), {"sha": "c0ffee" * 6 + "abcd"})()

    def list_repo_tree(self, repo_id, path_in_repo=None, *, repo_type=None, revision=None, **kwargs):
        assert (path_in_repo, repo_type, revision) == ("data", "dataset", "c0ffee" * 6 + "abcd")
        return iter(self.files)

    def hf_hub_download(self, repo_id, filename, *, repo_type=None, revision=None, local_dir=None, **kwargs):
        import shutil

        held = [path for path in Path(local_dir).parents[1].rglob("*.parquet")]  # the import's scratch
        self.most_at_once = max(self.most_at_once, len(held) + 1)
        self.downloads.append(filename)
        target = Path(local_dir) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.snapshot / filename, target)
        if filename == self.corrupt:
            with target.open("r+b") as handle:
                handle.seek(100)
                handle.write(b"\0" * 16)
        return str(target)


def test_a_hub_id_is_streamed_one_shard_at_a_time_and_checked(snapshot, imported, tmp_path, monkeypatch):
    hub = _FakeHub(snapshot, monkeypatch)
    out = tmp_path / "streamed"
    report = import_corpus("release", "rogertseng/CodecFake", out)
    assert hub.downloads == [f"data/train-{i:05d}-of-00004.parquet" for i in range(4)]
    assert hub.most_at_once == 1  # the disk never held two input shards of the import at once
    assert not [path for path in (out / ".build").rglob("*.parquet")]  # every input deleted once read
    assert report["imported"]["revision"] == "c0ffee" * 6 + "abcd"
    assert [item["sha256"] for item in report["imported"]["inputs"]] == [
        file.lfs.sha256 for file in hub.files
    ]
    for name in published_files(imported):  # the same rows as the import of the local snapshot
        if name.endswith(".parquet"):
            assert pq.read_table(out / name).to_pylist() == pq.read_table(imported / name).to_pylist()
    assert "(Hub, commit `c0ffeec0ffee`)" in (out / "README.md").read_text()

    hub.downloads.clear()  # a rerun downloads nothing: every shard is done
    import_corpus("release", "rogertseng/CodecFake", out)
    assert hub.downloads == []


def test_a_corrupt_download_is_refused_and_nothing_of_it_kept(snapshot, tmp_path, monkeypatch):
    _FakeHub(snapshot, monkeypatch, corrupt="data/train-00002-of-00004.parquet")
    with pytest.raises(DatasetBuildError, match="train-00002-of-00004.parquet: downloaded bytes have sha256"):
        import_corpus("release", "rogertseng/CodecFake", tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*.parquet.tmp")) and not list(
        (tmp_path / "out").glob("data/*/*-00002-*")
    )


def test_an_unreachable_hub_fails_fast_naming_the_dataset(unreachable_hub, tmp_path):
    with pytest.raises(
        DatasetBuildError, match="rogertseng/CodecFake: cannot list the Hub dataset .*ConnectError"
    ):
        import_corpus("release", "rogertseng/CodecFake", tmp_path / "out")


# --- processes, resume ---------------------------------------------------------------------------

_KILLED_AFTER = """
import os, signal, sys
from codecfake_cli.main import main
from dataset_builder import shard_files

writes = 0
original = shard_files.ShardWriter.write

def write(self, table):  # SIGKILL in the middle of the import: some parts done, one part half written
    global writes
    writes += 1
    if writes == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, table)

shard_files.ShardWriter.write = write
sys.exit(main(sys.argv[1:]))
"""


def _run(args: list[str], kill_at: int | None = None) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO_ROOT),
        "KILL_AT": str(kill_at or 0),
    }
    command = (
        [sys.executable, "-c", _KILLED_AFTER, *args]
        if kill_at
        else [sys.executable, "-m", "codecfake_cli", *args]
    )
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


def test_an_import_killed_with_sigkill_is_finished_by_rerunning(snapshot, imported, tmp_path):
    out = tmp_path / "codecfake"
    args = ["import", "release", str(snapshot), "--out", str(out)]
    killed = _run(args, kill_at=40)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (out / "build_report.json").exists() and list(
        out.rglob(".*.parquet.*.tmp")
    )  # a half-written part
    done = list((out / ".build" / "import" / "parts").glob("*.json"))
    assert 0 < len(done) < 4
    kept = {path: path.stat().st_mtime_ns for record in done for path in _outputs(out, record)}

    finished = _run(args)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert published_files(out) == published_files(imported)  # every file, byte for byte: nothing twice
    assert not list(out.rglob("*.tmp")) and not (out / ".build" / "import" / "scratch").exists()
    assert {path: path.stat().st_mtime_ns for path in kept} == kept  # the finished parts were not redone
    assert "wrote " in finished.stdout and "heldout-frequency" in finished.stdout


def _outputs(out: Path, record: Path) -> list[Path]:
    return [
        out / "data" / item["config"] / item["file"] for item in json.loads(record.read_text())["outputs"]
    ]


def test_two_processes_write_the_bytes_of_one(accelerate_launch, snapshot, imported, tmp_path):
    out = tmp_path / "codecfake"
    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", "2"], ["import", "release", str(snapshot), "--out", str(out)],
        module="codecfake_cli",
    )  # fmt: skip
    launched = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert "process 0 of 2: 2 of the import's 4 parts" in launched.stderr
    assert "process 1 of 2: 2 of the import's 4 parts" in launched.stderr
    assert launched.stdout.count("wrote ") == 1
    assert published_files(out) == published_files(imported)


# --- training and evaluation on the result -------------------------------------------------------


def test_train_py_and_evaluate_run_on_the_imported_folder(
    accelerate_launch, imported, tiny_aasist_dir, tmp_path
):
    run = tmp_path / "run"
    command, environment = accelerate_launch(
        ["--num_processes", "1"],
        ["--dataset", str(imported), "--subset", "E", "--recipe", "release", "--model", "tiny",
         "--epochs", "1", "--batch-size", "4", "--num-workers", "0", "--log-with", "none",
         "--output-dir", str(run)],
    )  # fmt: skip
    trained = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[0]["epoch"] == 1 and 0 <= log[0]["validation_eer"] <= 1 and log[0]["swa_snapshots"] == 1
    assert 0 <= log[-1]["swa_validation_eer"] <= 1  # the release recipe's weight average, checked at the end
    config = json.loads((run / "best" / "training_config.json").read_text())
    assert config["subset"] == "E" and config["input_rate"] == "model" and config["resampler"] == "torchaudio"

    assert main(["evaluate", "--model", str(run / "best"), "--dataset", str(imported), "--subsets", "E,D3",
                 "--output-dir", str(tmp_path / "eval"), "--batch-size", "4"]) == 0  # fmt: skip
    import pandas as pd

    scores = pd.read_csv(tmp_path / "eval" / "scores_D3.csv")
    assert (
        len(scores) == 8 and set(scores["codec"]) == {"bonafide", "D3"} and not scores["error"].notna().any()
    )
