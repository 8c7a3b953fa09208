"""The dataset card of an imported folder (``codecfake import``): the YAML header that makes
``load_dataset(folder, CONFIG)`` work (:func:`codecfake_hf.data.dataset_card.config_entries`), the corpus's
licence and source, and a body (template ``model_cards/imported_dataset_card.md``) with the configs,
their taxonomy, rates and counts, the source and its integrity, attribution and citation.

The text about the corpus comes from its module (:class:`~dataset_builder.corpora.ImportedCorpus`); the
numbers from the report (``build_report.json``, key ``imported``).
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from codecfake_hf.codecs.registry import TAXONOMY_FIELDS
from codecfake_hf.data import dataset_card, licenses
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.markdown import markdown_table
from dataset_builder.build_report import BuildReport
from dataset_builder.corpora import corpus_from_report
from dataset_builder.corpus import SPLITS, describe_rule


def render_import_card(report: BuildReport, repo: str = "codecfake") -> DatasetCard:
    """The card of an imported folder whose report is ``report``; ``repo`` is the name in the loading
    examples ("ORG/NAME" once pushed)."""
    imported = report["imported"]
    corpus = corpus_from_report(imported)
    entries = imported["configs"]
    configs = report["configs"]
    subsets = [config for config in configs if config != BONAFIDE_CONFIG]
    present = [split for split in SPLITS if any(entry["rows"][split] for entry in entries.values())]
    mixtures = {name: mixture["subsets"] for name, mixture in report["mixtures"].items()}
    subset_splits = {config: [s for s in SPLITS if entries[config]["rows"][s]] for config in subsets}
    self_contained = [config for config in subsets if entries[config].get("own_bonafide")]
    data = DatasetCardData(
        pretty_name=corpus.title,
        language=corpus.language,
        source_datasets=[imported["hub_id"]] if imported.get("hub_id") else None,
        task_categories=["audio-classification"],
        size_categories=[dataset_card.size_category(sum(sum(e["rows"].values()) for e in entries.values()))],
        tags=["anti-spoofing", "deepfake-detection", "audio-deepfake", imported["kind"]],
        configs=dataset_card.config_entries(subsets, present, mixtures, subset_splits, self_contained),
        **licenses.license_fields(
            [licenses.ConfigLicense("all", corpus.license, corpus.license_name, corpus.license_link)]
        ),
    )
    rates = sorted({rate for entry in entries.values() for rate in entry["sampling_rates"]})
    return dataset_card.render(
        data,
        "imported_dataset_card.md",
        title=corpus.title,
        description=corpus.description,
        kind=imported["kind"],
        source=_source(imported),
        repo=repo,
        example=subsets[0] if subsets else BONAFIDE_CONFIG,
        splits=present,
        config_noun=corpus.config_noun,
        rates=", ".join(f"{rate:,}" for rate in rates) or "-",
        split_rule=describe_rule(imported["split_rule"]),
        configs_table=_configs_table(report),
        split_table=_split_table(report),
        exclusions=_exclusions(report),
        provenance=_provenance(imported),
        notes=imported["notes"],
        attribution=corpus.attribution,
        license_name=corpus.license_name,
        license_link=corpus.license_link,
        license=corpus.license,
        citation=corpus.citation,
    )


def _source(imported: dict) -> str:
    """The source in a sentence; a local folder by its name only (the report keeps the full path)."""
    if imported.get("revision"):
        return f"`{imported['id']}` (Hub, commit `{imported['revision'][:12]}`)"
    named = f" (a local copy of `{imported['hub_id']}`)" if imported.get("hub_id") else ""
    return f"the local folder `{Path(imported['id']).name}`{named}"


def _configs_table(report: BuildReport) -> str:
    """One row per config (its codec names, taxonomy, rates, rows per split, hours), then the mixtures."""
    entries = report["imported"]["configs"]
    rows = []
    for config in report["configs"]:
        entry = entries[config]
        rows.append(
            [
                config,
                ", ".join(f"`{name}`" for name in entry["codec_names"]),
                *(entry[field] for field in TAXONOMY_FIELDS),
                "/".join(str(rate) for rate in entry["sampling_rates"]),
                *(
                    f"{_config_rows(entries, config, split):,}" if entry["rows"][split] else "-"
                    for split in SPLITS
                ),
                f"{entry['hours']:.2f}",
            ]
        )
    for name, mixture in report["mixtures"].items():
        pooled = mixture["subsets"]
        held_out = f"; held out: {', '.join(mixture['held_out'])}" if mixture["held_out"] else ""
        rows.append(
            [
                name,
                f"mixture `{mixture['selection']}`: {', '.join(pooled)}{held_out}",
                *["mixed"] * len(TAXONOMY_FIELDS),
                "mixed",
                *(
                    f"{sum(_own_rows(entries, c, split) for c in [BONAFIDE_CONFIG, *pooled]):,}"
                    for split in SPLITS
                ),
                f"{sum(entries[c]['hours'] for c in pooled):.2f}",
            ]
        )
    columns = ["config", "codec_name", *TAXONOMY_FIELDS, "rate (Hz)", *SPLITS, "hours (own audio)"]
    return markdown_table(rows, columns)


def _own_rows(entries: dict, config: str, split: str) -> int:
    return entries[config]["rows"][split] if config in entries else 0


def _config_rows(entries: dict, config: str, split: str) -> int:
    """Rows ``load_dataset(folder, config)`` gives for ``split``: the config's own and, for a spoof config
    with rows in the split and no bona fide rows of its own, the split's bona fide rows."""
    own = _own_rows(entries, config, split)
    if config == BONAFIDE_CONFIG or not own or entries[config].get("own_bonafide"):
        return own
    return own + _own_rows(entries, BONAFIDE_CONFIG, split)


def _split_table(report: BuildReport) -> str:
    reference = report["imported"].get("reference_counts") or {}
    rows = [
        [
            split,
            f"{report['splits'][split]['utterances']:,}",
            *([f"{reference[split]:,}" if split in reference else "-"] if reference else []),
            len(report["splits"][split]["speakers"]),
            f"{report['splits'][split]['hours']:.2f}",
        ]
        for split in SPLITS
    ]
    columns = [
        "split",
        "bona fide rows",
        *(["published"] if reference else []),
        "speakers (all configs)",
        "hours (bona fide)",
    ]
    return markdown_table(rows, columns)


def _exclusions(report: BuildReport) -> str:
    lines = []
    excluded = report["excluded"]
    if excluded:
        listed = ", ".join(f"{e['codec']}/{e['utterance_id']}" for e in excluded[:20]) + (
            " ..." if len(excluded) > 20 else ""
        )
        lines.append(
            f"{len(excluded)} row(s) have audio that cannot be read and are left out: {listed} (reasons in "
            "`build_report.json`)."
        )
    shared = report["imported"]["shared_speakers"]
    if shared:
        lines.append(
            f"**The splits share {len(shared)} speaker(s)** ({', '.join(list(shared)[:20])}): validation and "
            "test are not speaker-disjoint from train (the notes below say why the import kept them)."
        )
    else:
        lines.append("The splits share no speaker.")
    return " ".join(lines)


def _provenance(imported: dict) -> str:
    inputs = imported["inputs"]
    size = sum(item["bytes"] for item in inputs)
    text = f"Source: {_source(imported)}."
    if inputs:
        text += (
            f" {len(inputs)} input file(s), {size / 1e9:.2f} GB, were read; the sha256 of each is in "
            "`build_report.json` (`imported.inputs`)."
        )
    for name, digest in (imported.get("protocols") or {}).items():
        text += f" `{name}`: sha256 `{digest}`."
    return text
