"""What the import engine does alike for every corpus: default mixtures from the configs' taxonomy (also a
corpus's own taxonomy), per-config splits in the card, a rerun with other options leaving nothing stale,
and ``push`` asking the corpus whether a converted copy may be published."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from codecfake_hf.data.dataset_card import config_entries
from codecfake_hf.data.mixtures import parse_mixture
from codecfake_hf.files.hub_io import HubPushError
from dataset_builder import DatasetBuildError
from dataset_builder.build_report import read_build_report
from dataset_builder.corpora.lookalike import make_release_lookalike
from dataset_builder.corpora.release import Corpus as ReleaseCorpus
from dataset_builder.corpora.release import Options
from dataset_builder.corpus_import import default_mixtures, import_corpus
from dataset_builder.publishing import push_to_hub
from dataset_builder.shard_files import taxonomy_values


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    codec_names = ("SpeechTokenizer", "encodec_24khz", "funcodec-funcodec_en_libritts-16k-gr1nq32ds320")
    return make_release_lookalike(tmp_path_factory.mktemp("release"), shards=2, codec_names=codec_names)


def test_default_mixtures_hold_out_each_minority_taxonomy_label():
    labels = {config: taxonomy_values(config) for config in ("A", "E", "F1", "F3")}
    mixtures = {
        mixture.name: mixture.selection for mixture in default_mixtures(["bonafide", *labels], labels)
    }
    assert mixtures == {
        "all": "all",
        "heldout-frequency": "all-decoder_domain:frequency",  # F1
        "heldout-semantic-distillation": "all-auxiliary:semantic distillation",  # A
    }
    same = {config: taxonomy_values(config) for config in ("F3", "F4")}
    assert [m.name for m in default_mixtures(["bonafide", "F3", "F4"], same)] == ["all"]
    assert [m.name for m in default_mixtures(["bonafide", "E"], {"E": taxonomy_values("E")})] == ["all"]
    attacks = {name: {"family": name, "quantizer": "n/a", "auxiliary": "n/a", "decoder_domain": "n/a"}
               for name in ("A01", "A02")}  # fmt: skip
    assert [m.name for m in default_mixtures(["bonafide", *attacks], attacks)] == ["all"]


def test_a_corpus_taxonomy_selects_configs_that_are_no_registered_codec():
    """CodecFake+-style configs named by the corpus, labelled in the registry's vocabulary."""
    taxonomy = {
        "bigcodec": {"family": "BigCodec", "quantizer": "SVQ", "auxiliary": "none", "decoder_domain": "time"},
        "mini": {
            "family": "Mimi",
            "quantizer": "MVQ",
            "auxiliary": "semantic distillation",
            "decoder_domain": "time",
        },
        "E": taxonomy_values("E"),
    }
    configs = ["bonafide", "bigcodec", "mini", "E"]
    assert [m.name for m in default_mixtures(configs, taxonomy)] == [
        "all",
        "heldout-semantic-distillation",
        "heldout-svq",
    ]
    mixture = parse_mixture("no-svq=all-quantizer:SVQ")
    assert mixture.resolve(configs, taxonomy) == (["mini", "E"], ["bigcodec"])
    assert parse_mixture("encodec=family:encodec").resolve(configs, taxonomy) == (["E"], [])  # by module name
    assert mixture.resolve(configs) == (["bigcodec", "mini", "E"], [])  # without it: only registry ids match


def test_a_config_lists_only_the_splits_it_has_rows_in():
    listed = config_entries(
        ["A01", "A07"], ["train", "test"], {"all": ["A01", "A07"]}, {"A01": ["train"], "A07": ["test"]}
    )
    entries = {entry["config_name"]: entry for entry in listed}
    assert [item["split"] for item in entries["A07"]["data_files"]] == ["test"]
    assert entries["A07"]["data_files"][0]["path"] == [
        "data/bonafide/test-*.parquet",
        "data/A07/test-*.parquet",
    ]
    assert [item["split"] for item in entries["all"]["data_files"]] == ["train", "test"]
    assert [item["split"] for item in entries["default"]["data_files"]] == ["train", "test"]


def test_a_rerun_with_another_split_rewrites_every_part_and_leaves_nothing_stale(snapshot, tmp_path):
    out = tmp_path / "out"
    first = import_corpus("release", str(snapshot), out)
    rows = sum(pq.read_metadata(path).num_rows for path in out.glob("data/*/*.parquet"))
    second = import_corpus("release", str(snapshot), out, Options(validation_speakers=["p230", "p227"]))
    assert first["splits"]["test"]["speakers"] == ["p227", "p228"]
    assert second["splits"]["test"]["speakers"] == []
    assert not list(out.glob("data/*/test-*.parquet"))  # the first run's test files: no part wrote them now
    for path in out.glob("data/*/validation-*.parquet"):
        speakers = set(pq.read_table(path, columns=["speaker_id"])["speaker_id"].to_pylist())
        assert speakers == {"p227", "p230"}
    after = sum(pq.read_metadata(path).num_rows for path in out.glob("data/*/*.parquet"))
    assert after == rows  # every row once
    assert not list(out.rglob("*.tmp")) and read_build_report(out)["imported"]["kind"] == "release"


def test_push_asks_the_corpus_whether_a_converted_copy_may_be_published(snapshot, tmp_path, monkeypatch):
    out = tmp_path / "out"
    import_corpus("release", str(snapshot), out)
    # the release may be published: push goes on to its Hub checks
    with pytest.raises(HubPushError, match="HF_HUB_OFFLINE is set"):
        push_to_hub(out, "org/codecfake")
    monkeypatch.setattr(
        ReleaseCorpus, "publish_refusal", "its licence (CC BY-NC-ND 4.0) forbids sharing adaptations"
    )
    with pytest.raises(
        DatasetBuildError, match=r"not pushed: its licence \(CC BY-NC-ND 4.0\) forbids sharing"
    ):
        push_to_hub(out, "org/codecfake")
    assert json.loads((out / "build_report.json").read_text())["imported"]["kind"] == "release"


def test_the_taxonomy_vocabulary_holds_every_registered_label_and_disentanglement():
    """Imported codecs are labelled in the registry's vocabulary, which also has CodecFake+'s
    disentanglement (no registered codec carries it), so mixtures can select it."""
    from codecfake_hf.codecs.registry import CODECS, TAXONOMY_VALUES

    for spec in CODECS.values():
        assert all(getattr(spec, field) in values for field, values in TAXONOMY_VALUES.items())
    mixture = parse_mixture("no-disent=all-auxiliary:disentanglement")
    labels = {"ticodec_1g1r": {"family": "TiCodec", "quantizer": "SVQ", "auxiliary": "disentanglement",
                               "decoder_domain": "time"}, "E": taxonomy_values("E")}  # fmt: skip
    assert mixture.resolve(["bonafide", *labels], labels) == (["E"], ["ticodec_1g1r"])
