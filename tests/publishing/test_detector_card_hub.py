"""Dataset and model cards through huggingface_hub's card classes: the dataset card's default config,
licences and round trip; the model card's licence, dataset link, base model and EER unit.

``RepoCard.validate`` posts the card to the Hub, which tests cannot reach; the cards are checked
offline by parsing them with ``DatasetCard`` / ``ModelCard`` (``ignore_metadata_errors=False``, which
validates ``model-index``), with ``datasets``' own reader of the ``configs:`` YAML and with
``load_dataset`` itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, ModelCard

from codecfake_hf.data.dataset_card import read_card
from codecfake_hf.data.licenses import config_license, hub_license_id
from codecfake_hf.publishing.detector_card import (
    CardLinkError,
    check_card_links,
    detector_card,
    training_license,
)
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A tiny build with two subsets, one of them non-commercial (C) and one MIT (D1)."""
    root = tmp_path_factory.mktemp("cards")
    make_synthetic_vctk(
        root / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=1, seconds=(0.2, 0.3)
    )
    build_codecfake(root / "vctk", root / "codecfake", ["D1", "C"], BuildOptions(tiny=True, batch_size=4))
    return root / "codecfake"


def test_dataset_card_round_trips_through_datasetcard(built):
    from datasets.utils.metadata import MetadataConfigs

    text = (built / "README.md").read_text(encoding="utf-8")
    card = DatasetCard(text, ignore_metadata_errors=False)
    assert str(card) == text  # written by DatasetCard: parsing and re-serialising changes nothing
    data = card.data
    assert data.license == ["cc-by-4.0", "cc-by-nc-4.0", "mit"]
    assert data.source_datasets == ["CSTR-Edinburgh/vctk"]
    assert data.task_categories == ["audio-classification"] and data.size_categories == ["n<1K"]
    configs = MetadataConfigs.from_dataset_card_data(data)
    assert list(configs) == ["default", "bonafide", "C", "D1"]
    assert configs.get_default_config_name() == "default"
    default_test = next(f for f in configs["default"]["data_files"] if f["split"] == "test")
    assert default_test["path"] == [
        "data/bonafide/test-*.parquet",
        "data/C/test-*.parquet",
        "data/D1/test-*.parquet",
    ]
    assert read_card(built).data.to_dict() == data.to_dict()  # the one reader gives the same card


def test_dataset_card_states_each_configs_licence_with_a_link(built):
    text = (built / "README.md").read_text(encoding="utf-8")
    assert "| bonafide | cc-by-4.0 | CC BY 4.0 | <https://doi.org/10.7488/ds/2645> |" in text
    assert (
        "| C | cc-by-nc-4.0 | CC BY-NC 4.0 (non-commercial) | <https://huggingface.co/Codec-SUPERB/AudioDec> |"
        in text
    )
    assert "| D1 | mit |" in text
    assert "Non-commercial subsets in this build: C (AudioDec)." in text
    assert "license: other" not in text


def test_load_dataset_without_a_config_name_returns_the_default_config(built, tmp_path):
    import datasets

    everything = datasets.load_dataset(str(built), cache_dir=str(tmp_path))
    for split in ("train", "validation", "test"):
        rows = everything[split]
        bonafide = [u for u, c in zip(rows["utterance_id"], rows["codec"]) if c == "bonafide"]
        assert bonafide, split
        for codec in ("C", "D1"):  # every built subset holds the same utterances
            assert sorted(u for u, c in zip(rows["utterance_id"], rows["codec"]) if c == codec) == sorted(
                bonafide
            )
        assert len(rows) == 3 * len(bonafide)


def test_default_config_loads_through_the_project_loader(built):
    from codecfake_hf.data.loading import load_labelled_dataset
    from codecfake_hf.evaluation.scoring import codecfake_test_sets

    assert sorted(set(load_labelled_dataset(built, None, "test")["codec"])) == ["C", "D1", "bonafide"]
    assert list(codecfake_test_sets(str(built), "all")) == ["C", "D1"]  # default is no codec subset


def test_licence_ids_from_the_registry_texts():
    assert hub_license_id("CC BY-NC 4.0 (non-commercial)") == "cc-by-nc-4.0"
    assert hub_license_id("CC-BY-4.0 (Kyutai model cards; confirm on the kyutai/mimi card)") == "cc-by-4.0"
    assert hub_license_id("MIT (README statement; no LICENSE file upstream)") == "mit"
    assert hub_license_id("Apache-2.0") == "apache-2.0"
    assert hub_license_id("Some custom terms") == "other"
    assert config_license("C").noncommercial and not config_license("A").noncommercial


def test_encodec_weights_are_mit_so_e_is_not_non_commercial():
    """facebookresearch/encodec moved from CC BY-NC 4.0 to MIT on 2023-04-26 (commit 349b729)."""
    part = config_license("E")
    assert part.license == "mit" and part.license_name.startswith("MIT") and not part.noncommercial
    card = detector_card(model_name="m", repo_id="org/m", train_config="E", eers={"E": 0.1},
                         dataset_id="org/codecfake")  # fmt: skip
    assert card.data.license == "cc-by-4.0"  # VCTK's attribution licence is now the most restrictive part
    assert "non-commercial" not in card.text


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        (["C"], "cc-by-nc-4.0"),
        (["E"], "cc-by-4.0"),
        (["E", "C"], "cc-by-nc-4.0"),
        (["D1"], "cc-by-4.0"),
        (["A", "C"], "cc-by-nc-4.0"),
        (None, "mit"),
    ],
)
def test_model_licence_is_derived_from_the_training_subsets(subsets, expected):
    assert training_license(subsets).license == expected


def test_model_card_of_a_non_commercial_subset(tmp_path):
    card = detector_card(
        model_name="aasist-l-codecfake-C", repo_id="org/aasist-l-codecfake-C", train_config="C",
        eers={"C": 0.0123}, dataset_id="org/codecfake", base_model="org/aasist-l-asvspoof2019",
    )  # fmt: skip
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md", ignore_metadata_errors=False)
    assert loaded.data.license == "cc-by-nc-4.0"
    assert loaded.data.datasets == ["org/codecfake"] and loaded.data.base_model == "org/aasist-l-asvspoof2019"
    (result,) = loaded.data.eval_results
    assert (result.metric_name, result.metric_value) == ("EER (%)", 1.23)
    assert "| EER (%) | 1.23 |" in loaded.text and "0.0123 = 1.23 %" in loaded.text
    assert "non-commercial" in loaded.text and "Codec-SUPERB/AudioDec" in loaded.text


def test_a_local_card_names_no_dataset_and_no_model_index():
    card = detector_card(model_name="m", repo_id="runs/E/best", train_config="E", eers={"E": 0.1})
    assert card.data.datasets is None and card.data.eval_results is None
    assert "| EER (%) | 10.00 |" in card.text  # the results are still in the body


def test_cards_that_link_nowhere_are_refused():
    card = ModelCard("---\nlicense: mit\ndatasets:\n- codecfake\n---\n# m\n")
    with pytest.raises(CardLinkError, match="names the dataset 'codecfake', which is no Hub dataset"):
        check_card_links(card, lambda repo: True)
    card = detector_card(
        model_name="m", repo_id="org/m", train_config="E", eers={"E": 0.1}, dataset_id="org/missing"
    )
    with pytest.raises(CardLinkError, match="org/missing, which does not exist on the Hub"):
        check_card_links(card, lambda repo: False)
    check_card_links(card, lambda repo: repo == "org/missing")  # exists: accepted


def test_the_training_data_licence_comes_from_the_dataset_report():
    """A detector takes the licence of what it was trained on: an imported corpus's, a --source corpus's
    bona fide licence with the codec weights', VCTK's with them when the report says nothing else."""
    from codecfake_hf.publishing.detector_card import training_data

    imported = {"imported": {"title": "CodecFake+ (Chen et al., 2025)", "kind": "codecfake-plus", "license": "mit",
                             "license_name": "MIT", "license_link": "https://example.org"}}  # fmt: skip
    data = training_data(["bigcodec"], imported)
    assert data.license.license == "mit" and not data.vctk and "CodecFake+" in data.description
    source = {"source": {"id": "/data/speech", "hub_id": None, "license": "CC BY-NC 4.0"}}
    data = training_data(["E"], source)
    assert data.license.license == "cc-by-nc-4.0" and [p.license for p in data.parts] == [
        "cc-by-nc-4.0",
        "mit",
    ]
    assert training_data(["E"], {"vctk": {}}).license.license == "cc-by-4.0"
    assert training_data(["A07"]).license.license == "unknown"  # no codec A07 and no report: nothing to claim
    card = detector_card(model_name="m", repo_id="org/m", train_config="bigcodec", eers={"bigcodec": 0.1},
                         dataset_report=imported)  # fmt: skip
    assert card.data.license == "mit" and "(speakers p227, p228)" not in card.text
