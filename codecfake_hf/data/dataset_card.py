"""The CodecFake dataset card (``README.md`` of a built folder and of its Hub copy), written and read
here with huggingface_hub's ``DatasetCard`` / ``DatasetCardData``.

The YAML header is what the Hub and ``datasets`` read:

- ``configs``: ``default`` (bona fide + every built subset, so ``load_dataset(repo)`` needs no
  config name), ``bonafide`` (VCTK alone) and one config per codec subset, each listing for every
  split the bona fide shards and its own (bona fide audio is stored once);
- ``license``: the Hub licence id of every part (VCTK: CC BY 4.0, or the corpus's licence; each subset:
  its codec weights' licence), any of the Hub's ids (:mod:`codecfake_hf.data.licenses`); ``other`` +
  ``license_name`` / ``license_link`` for a licence the Hub has no id for;
  the card body lists the licence of every config with a link to where it is stated;
- ``source_datasets`` (VCTK on the Hub), ``task_categories``, ``size_categories``.

The body comes from the Jinja template ``model_cards/dataset_card.md``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.data.licenses import ConfigLicense, config_license, license_fields
from codecfake_hf.markdown import markdown_table

#: Config ``load_dataset(repo)`` returns without a name: bona fide + every built subset.
DEFAULT_CONFIG = "default"
#: Configs that are no codec subset (left out when evaluating "all" subsets).
POOLED_CONFIGS = (DEFAULT_CONFIG, BONAFIDE_CONFIG)
#: VCTK, the bona fide source, on the Hub.
VCTK_HUB_ID = "CSTR-Edinburgh/vctk"


def config_entries(
    subsets: Sequence[str],
    splits: Sequence[str],
    mixtures: Mapping[str, Sequence[str]] | None = None,
    subset_splits: Mapping[str, Sequence[str]] | None = None,
    self_contained: Collection[str] = (),
) -> list[dict]:
    """The ``configs:`` YAML: ``default`` (bona fide + every subset), ``bonafide``, each subset
    listing the bona fide shards and its own, then each mixture (``{name: subsets it pools}``,
    :mod:`codecfake_hf.data.mixtures`) listing the bona fide shards and its subsets', for every split in
    ``splits``; a subset in ``subset_splits`` only for the splits it has rows in (an ASVspoof 2019
    attack that exists only in the evaluation part has only a test split); a subset in
    ``self_contained`` (whose folder holds its own bona fide rows: a CodecFake+ CoSG system) lists its
    own shards alone."""
    subsets = [s for s in subsets if s not in POOLED_CONFIGS]
    sources = {DEFAULT_CONFIG: [BONAFIDE_CONFIG, *subsets], BONAFIDE_CONFIG: [BONAFIDE_CONFIG]}
    sources |= {
        subset: [subset] if subset in self_contained else [BONAFIDE_CONFIG, subset] for subset in subsets
    }
    sources |= {name: [BONAFIDE_CONFIG, *pooled] for name, pooled in (mixtures or {}).items()}
    own_splits = subset_splits or {}
    return [
        {
            "config_name": config,
            "data_files": [
                {"split": split, "path": [f"data/{source}/{split}-*.parquet" for source in folders]}
                for split in splits
                if config not in own_splits or split in own_splits[config]
            ],
        }
        for config, folders in sources.items()
    ]


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` bucket of ``rows`` examples."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if rows < limit:
            return name
    return "1M<n<10M"


def card_data(
    subsets: Sequence[str],
    splits: Sequence[str],
    rows: int,
    bonafide: ConfigLicense | None = None,
    source_datasets: Sequence[str] | None = (VCTK_HUB_ID,),
    mixtures: Mapping[str, Sequence[str]] | None = None,
) -> DatasetCardData:
    """The YAML header of a CodecFake folder holding ``subsets`` (codec ids) over ``splits``, with
    ``rows`` examples in the default config, and the mixture configs ``{name: subsets it pools}``.

    Args:
        bonafide: the licence of the bona fide audio when it is not VCTK; None: VCTK, which also makes the
            card's ``language`` English and adds the ``vctk`` tag (another corpus's language is not known
            here: the card leaves it out).
        source_datasets: the Hub ids of the bona fide corpus (None: not on the Hub).
    """
    parts = [bonafide or config_license(BONAFIDE_CONFIG)] + [config_license(config) for config in subsets]
    return DatasetCardData(
        pretty_name="CodecFake",
        language=["en"] if bonafide is None else None,
        source_datasets=list(source_datasets) if source_datasets else None,
        task_categories=["audio-classification"],
        size_categories=[size_category(rows)],
        tags=["anti-spoofing", "deepfake-detection", "audio-deepfake", "neural-audio-codec"]
        + (["vctk"] if bonafide is None else []),
        configs=config_entries(subsets, splits, mixtures),
        **license_fields(parts),
    )


def license_table(configs: Iterable[str], bonafide: ConfigLicense | None = None) -> str:
    """Markdown table: config, Hub licence id, licence as stated, link (``bonafide``: the bona fide
    audio's licence when it is not VCTK)."""
    rows = []
    for config in configs:
        part = bonafide if bonafide and config == BONAFIDE_CONFIG else config_license(config)
        rows.append(
            (config, part.license, part.license_name, f"<{part.license_link}>" if part.license_link else "-")
        )
    return markdown_table(rows, ["config", "license", "as stated", "link"])


def render(data: DatasetCardData, template_name: str = "dataset_card.md", **body: object) -> DatasetCard:
    """The card: ``data`` as YAML, the body from the template ``template_name`` (in
    ``codecfake_hf/model_cards/``) filled with ``body``."""
    template = resources.files("codecfake_hf.model_cards").joinpath(template_name).read_text(encoding="utf-8")
    return DatasetCard.from_template(data, template_str=template, **body)


# --- Reading --------------------------------------------------------------------------------------


def read_card(folder: str | os.PathLike) -> DatasetCard | None:
    """The dataset card of a local folder (``README.md``), or None when it has none."""
    readme = Path(folder) / "README.md"
    return DatasetCard.load(readme) if readme.is_file() else None


def card_configs(card: DatasetCard) -> dict[str, dict]:
    """``{config_name: configs entry}`` of a card's YAML (empty when it declares none)."""
    entries = card.data.to_dict().get("configs") or []
    return {entry.get("config_name", DEFAULT_CONFIG): entry for entry in entries}


def config_split_patterns(card: DatasetCard, config: str | None, split: str) -> list[str] | None:
    """The ``data_files`` patterns of ``config`` (None: the default config) and ``split``; None when
    the card has no such config.

    Raises:
        ValueError: the config exists but has no ``split``.
    """
    entry = card_configs(card).get(config or DEFAULT_CONFIG)
    if entry is None:
        return None
    for item in entry.get("data_files", []):
        if isinstance(item, Mapping) and item.get("split") == split:
            return list(item["path"]) if isinstance(item["path"], list) else [item["path"]]
    raise ValueError(f"config {config or DEFAULT_CONFIG!r} has no split {split!r}")


def default_config_subsets(card: DatasetCard) -> list[str]:
    """The codec subsets the ``default`` config pools (its ``data/<subset>/`` folders), in card order."""
    entry = card_configs(card).get(DEFAULT_CONFIG, {})
    folders = [
        Path(pattern).parts[1]
        for item in entry.get("data_files", [])
        for pattern in (item["path"] if isinstance(item["path"], list) else [item["path"]])
        if len(Path(pattern).parts) > 2
    ]
    return [folder for folder in dict.fromkeys(folders) if folder not in POOLED_CONFIGS]


def own_data_patterns(card: DatasetCard, config: str) -> dict[str, list[str]]:
    """``{split: patterns}`` of ``config``'s own rows, the ``data_files`` under ``data/<config>/`` (empty
    for a config that only pools others: ``default``, a mixture)."""
    own: dict[str, list[str]] = {}
    for item in card_configs(card).get(config, {}).get("data_files", []):
        paths = item.get("path", []) if isinstance(item, Mapping) else []
        for pattern in [paths] if isinstance(paths, str) else paths:
            if Path(pattern).parts[:2] == ("data", config):
                own.setdefault(item["split"], []).append(pattern)
    return own


def own_data_configs(card: DatasetCard) -> list[str]:
    """The configs that hold rows of their own (``data/<config>/``): ``bonafide`` and every codec subset,
    attack or system of a built or imported folder, in card order; not ``default`` nor a mixture."""
    return [config for config in card_configs(card) if own_data_patterns(card, config)]
