"""``codecfake import asvspoof2019``: ASVspoof 2019 LA (a look-alike of its protocols and FLAC folders) as
one config per attack with its own speaker-disjoint splits, the FLAC bytes unchanged, every protocol value
that contradicts the corpus refused with its file and line, and the licence and attribution on the card."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from codecfake_cli.main import main
from dataset_builder import DatasetBuildError
from dataset_builder.corpora.asvspoof2019 import PARTS, PROTOCOL_DIR, Options
from dataset_builder.corpora.lookalike import ASVSPOOF_ATTACKS, ASVSPOOF_SPEAKERS, make_asvspoof2019_lookalike
from dataset_builder.corpus_import import import_corpus

ATTACKS = [f"A{n:02d}" for n in range(1, 20)]


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> Path:
    return make_asvspoof2019_lookalike(tmp_path_factory.mktemp("asvspoof"))


@pytest.fixture(scope="module")
def imported(la, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "asvspoof2019"
    import_corpus(
        "asvspoof2019", str(la.parent), out, Options(shard_size=2)
    )  # the folder holding LA/ works too
    return out


def _protocol(la: Path) -> dict[str, tuple[str, str, str, str]]:
    """utterance -> (split, speaker, system, key), from the look-alike's protocols."""
    lines = {}
    for split, (_, protocol) in PARTS.items():
        for line in (la / PROTOCOL_DIR / protocol).read_text().splitlines():
            speaker, utterance, _, system, key = line.split()
            lines[utterance] = (split, speaker, system, key)
    return lines


def test_every_protocol_line_is_one_row_with_the_flac_bytes_label_split_and_config(la, imported):
    protocol = _protocol(la)
    rows = []
    for path in sorted(imported.glob("data/*/*.parquet")):
        config, split = path.parent.name, path.name.split("-")[0]
        rows += [row | {"config": config, "split": split} for row in pq.read_table(path).to_pylist()]
    assert sorted(row["utterance_id"] for row in rows) == sorted(protocol)  # each line once
    folders = {split: la / f"ASVspoof2019_LA_{name}" / "flac" for split, (name, _) in PARTS.items()}
    for row in rows:
        split, speaker, system, key = protocol[row["utterance_id"]]
        assert (row["split"], row["speaker_id"], row["codec_name"]) == (split, speaker, system)
        assert row["label"] == (1 if key == "bonafide" else 0)
        assert row["config"] == row["codec"] == ("bonafide" if key == "bonafide" else system)
        assert row["audio"]["bytes"] == (folders[split] / f"{row['utterance_id']}.flac").read_bytes()
        assert row["sampling_rate"] == 16000 and row["text"] == ""
        if key == "spoof":
            assert (row["family"], row["quantizer"], row["decoder_domain"]) == (system, "n/a", "n/a")


def test_attacks_are_configs_with_the_splits_they_have_rows_in(la, imported):
    report = json.loads((imported / "build_report.json").read_text())
    assert report["configs"] == ["bonafide", *ATTACKS] and list(report["mixtures"]) == ["all"]
    assert {split: info["speakers"] for split, info in report["splits"].items()} == {
        split: sorted(speakers) for split, speakers in ASVSPOOF_SPEAKERS.items()
    }
    assert (
        report["imported"]["split_rule"] == {"rule": "source splits"}
        and report["imported"]["shared_speakers"] == {}
    )
    assert set(report["imported"]["protocols"]) == {protocol for _, protocol in PARTS.values()}
    a01 = datasets.load_dataset(str(imported), "A01")
    assert sorted(a01) == ["train", "validation"]  # A01..A06: the training and development parts
    assert {len(a01[split]) for split in a01} == {3, 5}  # 1 spoof + the split's bona fide rows (4 / 2)
    a07 = datasets.load_dataset(str(imported), "A07")
    assert sorted(a07) == ["test"] and sorted(a07["test"]["label"]) == [0, 1, 1, 1, 1]
    everything = datasets.load_dataset(str(imported), "all")
    assert {split: len(rows) for split, rows in everything.items()} == {
        split: 2 * len(ASVSPOOF_SPEAKERS[split]) + len(ASVSPOOF_ATTACKS[split]) for split in PARTS
    }
    assert sum(1 for _ in imported.glob("data/bonafide/train-*.parquet")) == 2  # 4 rows, --shard-size 2


def test_the_card_states_licence_attribution_and_citation(imported):
    card = DatasetCard.load(imported / "README.md")
    data = card.data.to_dict()
    assert data["license"] == ["odc-by"] and data["pretty_name"] == "ASVspoof 2019 LA"
    assert "source_datasets" not in data
    configs = {entry["config_name"]: entry for entry in data["configs"]}
    assert [item["split"] for item in configs["A07"]["data_files"]] == ["test"]
    assert (
        "https://datashare.ed.ac.uk/handle/10283/3336" in card.text
        and "Open Data Commons Attribution" in card.text
    )
    assert "ASVspoof} 2019: A large-scale public database" in card.text
    assert "The splits share no speaker." in card.text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("LA_0079 LA_T_9999999 - A01", "4 fields in 'LA_0079 LA_T_9999999 - A01'"),
        ("LA_0079 LA_T_9999999 - A01 spoofs", "label 'spoofs' is neither 'bonafide' (bona fide) nor 'spoof'"),
        ("LA_0079 LA_T_9999999 - - genuine", "label 'genuine' is neither 'bonafide'"),
        ("LA_0079 LA_T_9999999 - A01 bonafide", "key 'bonafide' with system 'A01'; a bonafide line has '-'"),
        ("LA_0079 LA_T_9999999 - - spoof", "key 'spoof' with system '-'; a spoof line has an attack id"),
        ("LA_0079 LA_T_9999999 - B01 spoof", "key 'spoof' with system 'B01'"),
    ],
)
def test_a_protocol_line_that_contradicts_the_corpus_is_refused_with_file_and_line(tmp_path, line, message):
    la = make_asvspoof2019_lookalike(tmp_path)
    protocol = la / PROTOCOL_DIR / PARTS["train"][1]
    lines = protocol.read_text().splitlines()
    protocol.write_text("\n".join([*lines, line]) + "\n")
    with pytest.raises(DatasetBuildError) as refused:
        import_corpus("asvspoof2019", str(la), tmp_path / "out")
    assert str(refused.value).startswith(f"{protocol}:{len(lines) + 1}: ") and message in str(refused.value)
    assert not (tmp_path / "out" / "data").exists()  # refused before anything was written


def test_a_repeated_line_or_a_missing_file_is_refused_before_anything_is_written(tmp_path):
    la = make_asvspoof2019_lookalike(tmp_path)
    protocol = la / PROTOCOL_DIR / PARTS["validation"][1]
    first = protocol.read_text().splitlines()[0]
    protocol.write_text(protocol.read_text() + first + "\n")
    with pytest.raises(DatasetBuildError, match="utterance LA_D_\\d+ is listed again \\(line 1\\)"):
        import_corpus("asvspoof2019", str(la), tmp_path / "out")
    protocol.write_text("\n".join(protocol.read_text().splitlines()[:-1]) + "\n")
    missing = la / "ASVspoof2019_LA_dev" / "flac" / f"{first.split()[1]}.flac"
    missing.unlink()
    with pytest.raises(
        DatasetBuildError, match=f"1 file\\(s\\) of the protocol missing, e.g. {missing.name}"
    ):
        import_corpus("asvspoof2019", str(la), tmp_path / "out")
    assert not (tmp_path / "out" / "data").exists()


def test_shared_speakers_stop_the_import_unless_allowed(tmp_path):
    la = make_asvspoof2019_lookalike(tmp_path)
    protocol = la / PROTOCOL_DIR / PARTS["test"][1]
    protocol.write_text(protocol.read_text().replace("LA_0040 ", "LA_0079 "))  # a training speaker in eval
    with pytest.raises(
        DatasetBuildError, match="speaker\\(s\\) LA_0079 are in more than one of train / dev / eval"
    ):
        import_corpus("asvspoof2019", str(la), tmp_path / "out")
    report = import_corpus("asvspoof2019", str(la), tmp_path / "out", Options(allow_shared_speakers=True))
    assert report["imported"]["shared_speakers"] == {"LA_0079": ["train", "test"]}
    assert "**The splits share 1 speaker(s)** (LA_0079)" in (tmp_path / "out" / "README.md").read_text()


def test_unreadable_audio_is_left_out_and_reported(tmp_path):
    la = make_asvspoof2019_lookalike(tmp_path)
    flac = sorted((la / "ASVspoof2019_LA_eval" / "flac").glob("*.flac"))[-1]
    flac.write_bytes(b"not audio")
    report = import_corpus("asvspoof2019", str(la), tmp_path / "out")
    (entry,) = report["excluded"]
    assert entry["utterance_id"] == flac.stem and entry["split"] == "test"
    assert entry["error"].startswith(f"{flac}: audio unreadable")
    assert "A19" not in report["configs"]  # the last line was A19's one spoof: no row, no config
    assert (
        "1 row(s) have audio that cannot be read and are left out: A19/"
        in (tmp_path / "out" / "README.md").read_text()
    )


def test_the_command_line_takes_its_own_options(la, tmp_path, capsys):
    assert main(["import", "asvspoof2019", str(la), "--out", str(tmp_path / "out"), "--shard-size", "1"]) == 0
    shown = capsys.readouterr().out
    assert "configs bonafide, A01, " in shown and "test 17 rows" in shown
    assert len(list((tmp_path / "out").glob("data/bonafide/test-*.parquet"))) == 4
    assert main(["import", "asvspoof2019", str(tmp_path), "--out", str(tmp_path / "o2")]) == 2
    assert "no ASVspoof2019_LA_cm_protocols/ in it" in capsys.readouterr().err


def test_evaluate_all_scores_every_attack_of_an_imported_folder(imported, tiny_aasist_dir, tmp_path):
    import pandas as pd

    code = main(["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(imported), "--subsets", "all",
                 "--split", "test", "--output-dir", str(tmp_path), "--batch-size", "8"])  # fmt: skip
    assert code == 0
    summary = pd.read_csv(tmp_path / "eer.csv", index_col=0)
    assert list(summary.index) == ATTACKS[6:]  # A07..A19: the attacks with test rows, not the mixture "all"


def test_a_detector_trained_on_an_attack_config_gets_the_corpus_licence_on_its_card(
    imported, tmp_path, monkeypatch
):
    """train.py --subset A01 (no codec of the registry) trains, and push-model writes its card with ASVspoof
    2019's licence (ODC-By), not VCTK's, without looking up a codec A01."""
    from huggingface_hub import ModelCard

    from codecfake_hf.publishing import detector_card
    from codecfake_hf.training import TrainingConfig, train

    best = train(
        TrainingConfig(
            subset="A01", dataset=str(imported), model="tiny", epochs=1, batch_size=4, num_workers=0,
            log_with=["none"], output_dir=str(tmp_path / "run"),
        )
    )  # fmt: skip
    uploaded = []
    api = type("Api", (), {"repo_exists": lambda self, repo, repo_type=None: repo == "org/asvspoof2019"})()
    monkeypatch.setattr(detector_card, "hub_api_for_push", lambda repo, kind: api)
    monkeypatch.setattr(detector_card, "create_repo", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        detector_card, "upload_folder", lambda api, folder, repo, kind: uploaded.append(folder) or repo
    )
    argv = [
        "push-model",
        str(best),
        "--repo",
        "org/aasist-a01",
        "--dataset-id",
        "org/asvspoof2019",
        "--write-card",
    ]
    assert main(argv) == 0 and uploaded == [best]
    card = ModelCard.load(best / "README.md")
    assert card.data.license == "odc-by"
    assert "the **A01** config of ASVspoof 2019 LA, copied by `codecfake import asvspoof2019`" in card.text
    assert "ODC-By 1.0 (Edinburgh DataShare) (<https://datashare.ed.ac.uk/handle/10283/3336>)" in card.text
    assert "VCTK" not in card.text.split("## Licence")[1].split("## Citation")[0]
