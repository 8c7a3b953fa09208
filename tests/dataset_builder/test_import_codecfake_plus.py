"""``codecfake import codecfake-plus``: CodecFake+ (a look-alike of its Hub files: the CoRS tar.xz in pieces,
the CoSG tar.xz, the two label files) read as streams into one config per CoRS codec and one test-only
config per CoSG system: bytes unchanged, labels and taxonomy, every disagreement with the facts refused
with its file and value, resume after SIGKILL, two processes writing the bytes of one, the card."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from dataset_builder import DatasetBuildError
from dataset_builder.corpora.codecfake_plus import CORS_CODECS, SPELLINGS, Options
from dataset_builder.corpora.lookalike import (
    CODECFAKE_PLUS_CODECS,
    CODECFAKE_PLUS_SPEAKERS,
    COSG_CLIPS,
    COSG_SYSTEMS,
    make_codecfake_plus_lookalike,
)
from dataset_builder.corpus_import import import_corpus
from tests.dataset_builder.test_build_processes import _files as published_files
from tests.dataset_builder.test_import_release import _imported_rows, _run

SPLIT_OF = {"p226": "validation", "p229": "validation", "p227": "test", "p228": "test"}
CORS_ROWS = len(CODECFAKE_PLUS_SPEAKERS) * 2 * (1 + len(CODECFAKE_PLUS_CODECS))  # 96
COSG_ROWS = len(COSG_SYSTEMS) * sum(COSG_CLIPS)  # 15
#: 4 CoRS parts and 1 CoSG part
SMALL_PARTS = Options(part_size=25)


@pytest.fixture(scope="module")
def download(tmp_path_factory) -> Path:
    return make_codecfake_plus_lookalike(tmp_path_factory.mktemp("cfplus") / "CodecFake_Plus_Dataset")


@pytest.fixture(scope="module")
def imported(download, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "codecfake-plus"
    import_corpus("codecfake-plus", str(download), out, SMALL_PARTS)
    return out


def _members(archive: bytes | Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:xz") as opened:
        return {m.name: opened.extractfile(m).read() for m in opened.getmembers() if m.isfile()}


def _cors_members(download: Path) -> dict[str, bytes]:
    joined = b"".join((download / f"Codecfake_plus_CoRS.part{n}").read_bytes() for n in range(4))
    scratch = download.parent / "joined.tar.xz"
    scratch.write_bytes(joined)
    return _members(scratch)


def test_every_member_is_one_row_with_its_bytes_label_split_config_and_taxonomy(download, imported):
    cors = _cors_members(download)
    cosg = _members(download / "CodecFake_plus_CoSG.tar.xz")
    rows = _imported_rows(imported)
    assert len(rows) == CORS_ROWS + COSG_ROWS == len(cors) + len(cosg)
    by_name = {("", Path(name).name): data for name, data in cors.items()}
    by_name |= {(Path(name).parent.name, Path(name).name): data for name, data in cosg.items()}
    for row in rows:
        system = row["codec"] if row["codec"] in COSG_SYSTEMS else ""
        assert row["audio"]["bytes"] == by_name[system, row["audio"]["path"]]  # verbatim
        assert row["sampling_rate"] == 16000
        stem = row["audio"]["path"].removesuffix(".wav")
        config = row["file"].split("/")[1]
        if row["codec"] in COSG_SYSTEMS:
            assert config == row["codec"] == row["codec_name"] and row["file"].startswith(
                f"data/{config}/test-"
            )
            assert row["label"] == (1 if stem.startswith("gt_") else 0) and row["speaker_id"] == ""
            quantizer = {"MVQ": "MVQ", "SQ": "SQ", "SVQ": "SVQ"}[COSG_SYSTEMS[config][0]]
            expected = "bonafide" if row["label"] else quantizer
            assert row["quantizer"] == expected and row["family"] == ("bonafide" if row["label"] else config)
            continue
        speaker = stem.split("_")[0]
        assert row["speaker_id"] == speaker and row["utterance_id"] == "_".join(stem.split("_")[:2])
        split = SPLIT_OF.get(speaker, "train")
        assert row["file"].startswith(f"data/{config}/{split}-")
        key = stem.split("_", 2)[2] if stem.count("_") >= 2 else None
        if key is None:
            assert (config, row["label"], row["codec_name"], row["family"]) == (
                "bonafide",
                1,
                "bonafide",
                "bonafide",
            )
        else:  # the codec key verbatim (typo included), the authors' taxonomy in the registry's words
            assert (config, row["codec"], row["codec_name"], row["label"]) == (key, key, key, 0)
            family, auxiliary, decoder, quantizer = CORS_CODECS[key]
            assert (row["family"], row["auxiliary"], row["decoder_domain"], row["quantizer"]) == (
                family, SPELLINGS["auxiliary"][auxiliary], SPELLINGS["decoder_domain"][decoder], quantizer,
            )  # fmt: skip
    xocdec = [row for row in rows if row["codec"] == "xocdec_hubert_general_audio"]
    assert len(xocdec) == 12 and {row["label"] for row in xocdec} == {0}  # its last line says "spoofs"


def test_configs_splits_and_mixtures(imported):
    report = json.loads((imported / "build_report.json").read_text())
    assert set(report["configs"]) == {"bonafide", *CODECFAKE_PLUS_CODECS, *COSG_SYSTEMS}
    assert report["imported"]["configs"]["DAC24"]["rows"] == {"train": 4, "validation": 4, "test": 4}
    assert report["imported"]["configs"]["MASKGCT"]["rows"] == {"train": 0, "validation": 0, "test": 5}
    assert report["imported"]["configs"]["MASKGCT"]["own_bonafide"] is True
    assert report["imported"]["configs"]["FACodec_encodec-decoder-v2_16k"]["auxiliary"] == "disentanglement"
    speakers = [set(report["splits"][split]["speakers"]) for split in ("train", "validation", "test")]
    assert speakers == [{"p225", "s5"}, {"p226", "p229"}, {"p227", "p228"}]  # disjoint; CoSG has none
    assert {"heldout-disentanglement", "heldout-svq", "heldout-sq", "heldout-frequency"} <= set(
        report["mixtures"]
    )
    assert report["mixtures"]["heldout-disentanglement"]["held_out"] == [
        "FACodec_encodec-decoder-v2_16k", "TI1G1R",
    ]  # fmt: skip
    dac = datasets.load_dataset(str(imported), "DAC24")
    assert {split: len(rows) for split, rows in dac.items()} == {"train": 8, "validation": 8, "test": 8}
    system = datasets.load_dataset(str(imported), "MASKGCT")
    assert list(system) == ["test"]  # test only, with its own bona fide clips and not VCTK's
    assert sorted(system["test"]["label"]) == [0, 0, 0, 1, 1] and set(system["test"]["codec"]) == {"MASKGCT"}
    everything = datasets.load_dataset(str(imported), "all", split="test")
    assert len(everything) == 4 + 4 * len(CODECFAKE_PLUS_CODECS) + COSG_ROWS


def test_the_card_states_the_licences_and_the_third_party_cosg_audio(download, imported):
    card = DatasetCard.load(imported / "README.md")
    data = card.data.to_dict()
    assert data["license"] == ["mit"] and data["source_datasets"] == ["CodecFake/CodecFake_Plus_Dataset"]
    configs = {entry["config_name"]: entry for entry in data["configs"]}
    assert configs["MASKGCT"]["data_files"] == [{"split": "test", "path": ["data/MASKGCT/test-*.parquet"]}]
    assert "third-party speech generation systems, whose terms are not stated" in card.text
    assert "CC BY 4.0" in card.text and "arXiv:2501.08238" in card.text
    assert "`spoofs` -> 0" in card.text and "CoRS_labels.txt`: sha256" in card.text
    report = json.loads((imported / "build_report.json").read_text())
    assert [item["name"] for item in report["imported"]["inputs"]] == [
        *(f"Codecfake_plus_CoRS.part{n}" for n in range(4)), "CodecFake_plus_CoSG.tar.xz",
    ]  # fmt: skip
    from codecfake_hf.files.hub_io import sha256_file

    for item in report["imported"]["inputs"]:  # hashed while streamed, every piece whole
        assert (item["sha256"], item["bytes"]) == (
            sha256_file(download / item["name"]), (download / item["name"]).stat().st_size,
        )  # fmt: skip


def test_the_joined_archive_and_one_set_alone(download, imported, tmp_path):
    folder = tmp_path / "joined"
    folder.mkdir()
    joined = b"".join((download / f"Codecfake_plus_CoRS.part{n}").read_bytes() for n in range(4))
    (folder / "Codecfake_plus_CoRS.tar.xz").write_bytes(joined)
    (folder / "CoRS_labels.txt").write_bytes((download / "CoRS_labels.txt").read_bytes())
    with pytest.raises(
        DatasetBuildError, match="no CodecFake_plus_CoSG.tar.xz; download it .* or import --sets CoRS"
    ):
        import_corpus("codecfake-plus", str(folder), tmp_path / "refused", SMALL_PARTS)
    import_corpus("codecfake-plus", str(folder), tmp_path / "out", Options(part_size=25, sets=["CoRS"]))
    same = [name for name in published_files(imported) if name.endswith(".parquet") and "/bonafide/" in name]
    assert same and all(
        pq.read_table(tmp_path / "out" / name).equals(pq.read_table(imported / name)) for name in same
    )


def _edit(download: Path, tmp_path: Path, labels: str, change) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir(parents=True)
    for path in download.iterdir():
        (copy / path.name).symlink_to(path)
    lines = (download / labels).read_text().splitlines()
    (copy / labels).unlink()
    (copy / labels).write_text("\n".join(change(lines)) + "\n")
    return copy


@pytest.mark.parametrize(
    ("labels", "line", "message"),
    [
        ("CoRS_labels.txt", "p225 p225_009 - REAL REAL REAL spoofed", "label 'spoofed' is neither 'bonafide'"),
        ("CoRS_labels.txt", "p225 p225_009 - REAL REAL REAL Bonafide", "label 'Bonafide' is neither"),
        ("CoRS_labels.txt", "p225 p225_009 - REAL REAL 1", "6 fields in"),
        ("CoRS_labels.txt", "p225 p225_009_DAC48 - Trad TIME MVQ spoof", "codec key 'DAC48' is none of the 31"),
        ("CoRS_labels.txt", "p225 p225_009_DAC24 - Trad FREQ MVQ spoof",
         "codec DAC24 has decoder_domain 'frequency' here, 'time' in the authors' metadata"),
        ("CoRS_labels.txt", "p225 p225_009_DAC24 - Trad Time MVQ spoof", "DEC 'Time' is no known spelling"),
        ("CoRS_labels.txt", "p225 p225_009_DAC24 - Trad TIME MVQ bonafide", "label 'bonafide' but UTT"),
        ("CoRS_labels.txt", "p226 p225_009 - REAL REAL REAL bonafide", "of speaker 'p226'"),
        ("CoSG_labels.txt", "VALLE c1 MVQ Trad TIME fake", "label 'fake' is neither"),
        ("CoSG_labels.txt", "VALLE c1 MVQ Trad spoof", "5 fields in"),
        ("CoSG_labels.txt", "VALLE c1 MVQ Semantic TIME spoof", "AUX 'Semantic' is no known spelling"),
    ],
)  # fmt: skip
def test_a_label_line_that_contradicts_the_facts_is_refused_with_file_and_line(
    download, tmp_path, labels, line, message
):
    copy = _edit(download, tmp_path, labels, lambda lines: [*lines, line])
    number = len((download / labels).read_text().splitlines()) + 1
    with pytest.raises(DatasetBuildError) as refused:
        import_corpus("codecfake-plus", str(copy), tmp_path / "out", SMALL_PARTS)
    assert str(refused.value).startswith(f"{copy / labels}:{number}: ") and message in str(refused.value)
    assert not (tmp_path / "out" / "data").exists()  # refused before any audio was read


def test_options_for_what_the_facts_leave_open(download, tmp_path):
    copy = _edit(
        download,
        tmp_path,
        "CoSG_labels.txt",
        lambda lines: [line.replace(" SEM ", " Semantic ") for line in lines],
    )
    options = Options(part_size=25, taxonomy_spellings=["Semantic=semantic distillation"])
    report = import_corpus("codecfake-plus", str(copy), tmp_path / "spelt", options)
    assert report["imported"]["configs"]["MASKGCT"]["auxiliary"] == "semantic distillation"

    new = make_codecfake_plus_lookalike(tmp_path / "new", new_codecs={"newcodec": ("Trad", "TIME", "SVQ")})
    with pytest.raises(
        DatasetBuildError, match="CoRS_labels.txt:\\d+: codec key 'newcodec' is none of the 31"
    ):
        import_corpus("codecfake-plus", str(new), tmp_path / "refused", SMALL_PARTS)
    options = Options(part_size=25, taxonomy_source="labels")
    report = import_corpus("codecfake-plus", str(new), tmp_path / "new-out", options)
    assert report["imported"]["configs"]["newcodec"]["quantizer"] == "SVQ"  # from its lines
    assert report["imported"]["configs"]["newcodec"]["family"] == "newcodec"


def test_taxonomy_from_the_label_file_takes_new_codecs_and_other_labels(download, tmp_path):
    def retaxonomised(lines):
        return [line.replace("DAC24 - Trad TIME", "DAC24 - Trad FREQ") for line in lines]

    copy = _edit(download, tmp_path, "CoRS_labels.txt", retaxonomised)
    report = import_corpus(
        "codecfake-plus", str(copy), tmp_path / "out", Options(part_size=25, taxonomy_source="labels")
    )
    assert report["imported"]["configs"]["DAC24"]["decoder_domain"] == "frequency"
    assert report["imported"]["configs"]["DAC24"]["family"] == "DAC24"  # the file names no family


def test_archive_members_that_disagree_with_the_labels_are_refused(download, tmp_path):
    dropped = _edit(download, tmp_path / "a", "CoRS_labels.txt", lambda lines: lines[1:])  # p225_001: no line
    with pytest.raises(
        DatasetBuildError,
        match=r"member 'CodecFake\+/all_data_16k/p225_001.wav' has no line in CoRS_labels.txt",
    ):
        import_corpus("codecfake-plus", str(dropped), tmp_path / "o1", SMALL_PARTS)
    report = import_corpus(
        "codecfake-plus",
        str(dropped),
        tmp_path / "o2",
        Options(part_size=25, ignore_members=r".*/p225_001\.wav"),
    )
    assert sum(report["imported"]["configs"]["bonafide"]["rows"].values()) == 11
    extra = _edit(
        download, tmp_path / "b", "CoSG_labels.txt", lambda lines: [*lines, "VALLE c1 MVQ Trad TIME spoof"]
    )
    with pytest.raises(
        DatasetBuildError,
        match="CodecFake_plus_CoSG.tar.xz: ended after 15 of the 16 files CoSG_labels.txt lists",
    ):
        import_corpus("codecfake-plus", str(extra), tmp_path / "o3", SMALL_PARTS)
    (extra / "Codecfake_plus_CoRS.part2").unlink()
    with pytest.raises(DatasetBuildError, match="Codecfake_plus_CoRS.part2 is missing"):
        import_corpus("codecfake-plus", str(extra), tmp_path / "o4", SMALL_PARTS)


def test_an_import_killed_with_sigkill_is_finished_by_rerunning(download, imported, tmp_path):
    out = tmp_path / "codecfake-plus"
    args = ["import", "codecfake-plus", str(download), "--out", str(out), "--part-size", "25"]
    killed = _run(args, kill_at=50)  # in the third of the four CoRS parts
    assert killed.returncode == -9, killed.stderr[-2000:]
    done = list((out / ".build" / "import" / "parts").glob("*.json"))
    assert 0 < len(done) < 5 and not (out / "build_report.json").exists()
    finished = _run(args)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert published_files(out) == published_files(imported)  # byte for byte: nothing twice, nothing lost


def test_two_processes_write_the_bytes_of_one(accelerate_launch, download, imported, tmp_path):
    out = tmp_path / "codecfake-plus"
    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", "2"],
        ["import", "codecfake-plus", str(download), "--out", str(out), "--part-size", "25"],
        module="codecfake_cli",
    )
    launched = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert "process 1 of 2: 2 of the import's 5 parts" in launched.stderr
    assert published_files(out) == published_files(imported)


def test_chained_files_read_as_one_and_hash_each_file_whole(tmp_path):
    """The pieces of a split archive as one stream: read in order, and hashed whole even where the archive
    ends before its last bytes (padding after the tar's end is read by read_to_end)."""
    import hashlib

    from dataset_builder.corpora.archive_stream import ChainedFiles

    pieces = [tmp_path / f"piece{n}" for n in range(3)]
    for n, path in enumerate(pieces):
        path.write_bytes(bytes([n]) * (1000 + n))
    chained = ChainedFiles(pieces)
    data = b""
    while len(data) < 1500:  # a raw read stops at a piece's end; the next one goes on in the next piece
        data += chained.read(1500 - len(data))
    assert data == b"\0" * 1000 + b"\1" * 500
    read = chained.read_to_end()
    assert read == [
        {
            "name": path.name,
            "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in pieces
    ]
