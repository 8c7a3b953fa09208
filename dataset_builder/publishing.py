"""The Hub layout of a built CodecFake folder: its dataset card (README.md with the ``configs:``
YAML) and the upload to the Hub.

Layout (``--out``, default ``./codecfake``)::

    README.md                         card (codecfake_hf.data.dataset_card); YAML `configs:` = default,
                                      bonafide, one per subset, the mixtures (codecfake_hf.data.mixtures)
    build_report.json                 counts, excluded source files, untranscribed utterances
    data/bonafide/<split>-NNNNN-of-MMMMM.parquet
    data/<subset>/<split>-NNNNN-of-MMMMM.parquet

Config ``E``'s ``data_files`` for a split are ``data/bonafide/<split>-*`` plus ``data/E/<split>-*``,
so ``load_dataset("codecfake", "E")`` yields both labels while bona fide audio is stored once;
``default`` lists the bona fide shards and every subset's, so ``load_dataset("codecfake")`` works.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import DatasetCard

from codecfake_hf.codecs.registry import get_spec
from codecfake_hf.data import dataset_card, licenses
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.evaluation.tables import paper_codecs
from codecfake_hf.evaluation.taxonomy import taxonomy_table
from codecfake_hf.files.atomic_files import atomic_path, remove_leftovers
from codecfake_hf.markdown import markdown_table
from dataset_builder import DatasetBuildError
from dataset_builder.build_report import REPORT_FILE, BuildReport, read_build_report
from dataset_builder.corpora.vctk import VCTK_CITATION
from dataset_builder.corpus import SPLITS, describe_rule

#: Where the sha256 of the card codecfake last wrote is kept (inside the build cache, never pushed).
CARD_RECORD = ".build/card.sha256"

#: What a push leaves out: the builder's cache (unfinished files are left out of every upload,
#: :func:`codecfake_hf.files.hub_io.upload_folder`).
PUSH_IGNORE = [".build/**"]


def render_card(report: BuildReport, repo: str = "codecfake") -> DatasetCard:
    """The dataset card of a build (:mod:`codecfake_hf.data.dataset_card`: YAML header, template body).

    Args:
        report: the build report (:func:`dataset_builder.build.build_report`).
        repo: the name shown in the loading examples ("ORG/NAME" once pushed).
    """
    if "imported" in report:  # a published corpus copied by `codecfake import`
        from dataset_builder.import_card import render_import_card

        return render_import_card(report, repo)
    splits = report["splits"]
    present = [s for s in SPLITS if splits[s]["utterances"]]
    configs = report["configs"]
    subsets = [c for c in configs if c != BONAFIDE_CONFIG]
    rows = sum(splits[s]["utterances"] for s in present) * (1 + len(subsets))
    corpus = card_corpus(report)
    config_rows = []
    for config in [c for c in [BONAFIDE_CONFIG, *subsets] if c in configs]:
        factor = 1 if config == BONAFIDE_CONFIG else 2
        rate = corpus.table_rate if config == BONAFIDE_CONFIG else get_spec(config).sampling_rate
        counts = [f"{factor * splits[s]['utterances']:,}" for s in SPLITS]
        hours = sum(factor * splits[s]["hours"] for s in SPLITS)
        config_rows.append(
            [
                config,
                corpus.title if config == BONAFIDE_CONFIG else get_spec(config).family,
                rate,
                *counts,
                f"{hours:.2f}",
            ]
        )
    for name, mixture in report["mixtures"].items():
        held_out = f"; held out: {', '.join(mixture['held_out'])}" if mixture["held_out"] else ""
        pooled = [c for c in configs if c in mixture["subsets"]]
        counts = [f"{(1 + len(pooled)) * splits[s]['utterances']:,}" for s in SPLITS]
        hours = sum((1 + len(pooled)) * splits[s]["hours"] for s in SPLITS)
        codecs = f"mixture `{mixture['selection']}`: {', '.join(pooled)}{held_out}"
        config_rows.append([name, codecs, "mixed", *counts, f"{hours:.2f}"])
    split_rows = [
        [
            s,
            f"{splits[s]['utterances']:,}",
            *(
                [f"{splits[s]['paper_utterances']:,}" if "paper_utterances" in splits[s] else "-"]
                if corpus.vctk
                else []
            ),
            len(splits[s]["speakers"]),
            *([splits[s].get("paper_speakers", "-")] if corpus.vctk else []),
            f"{splits[s]['hours']:.2f}",
        ]
        for s in SPLITS
    ]
    split_columns = (
        ["split", "utterances", "paper", "speakers", "paper", "hours (bona fide)"]
        if corpus.vctk
        else ["split", "utterances", "speakers", "hours (bona fide)"]
    )
    return dataset_card.render(
        dataset_card.card_data(
            subsets,
            present,
            rows,
            corpus.bonafide_license,
            corpus.source_datasets,
            {name: m["subsets"] for name, m in report["mixtures"].items()},
        ),
        repo=repo,
        tiny=report["tiny_codecs"],
        subsets=subsets,
        configs_table=markdown_table(
            config_rows, ["config", "codec", "rate (Hz)", "train", "validation", "test", "hours"]
        ),
        split_table=markdown_table(split_rows, split_columns),
        exclusions=_exclusions(report),
        codec_table=_codec_table(configs, report["tiny_codecs"]),
        processing="\n".join(f"- {c}: {get_spec(c).processing}" for c in subsets)
        or "- (no codec subset built)",
        taxonomy_table=taxonomy_table(subsets) if subsets else "(no codec subset built)",
        license_table=dataset_card.license_table([BONAFIDE_CONFIG, *subsets], corpus.bonafide_license),
        non_commercial=[
            f"{c} ({get_spec(c).family})" for c in subsets if licenses.config_license(c).noncommercial
        ],
        corpus=corpus,
    )


@dataclass(frozen=True)
class CardCorpus:
    """What the card says of the bona fide corpus (VCTK, or the corpus ``--source`` named)."""

    vctk: bool
    #: short name: "VCTK", a Hub id, a local folder's name
    title: str
    #: the name in a sentence: "the CSTR VCTK corpus", "`ORG/speech`", "the local audiofolder corpus `x`"
    name: str
    #: the bona fide rate in prose, and in the config table's "rate (Hz)" column
    rate: str
    table_rate: int | str
    #: what the codecs' input is resampled from, in prose
    input_rate: str
    #: how the splits were made, one or two sentences
    split: str
    #: the bona fide licence as a clause, and for the YAML header (None: VCTK's, the card's default)
    license: str
    bonafide_license: licenses.ConfigLicense | None
    #: BibTeX of the corpus ("" when unknown) and its Hub ids (None: not on the Hub)
    citation: str
    source_datasets: list[str] | None


def card_corpus(report: BuildReport) -> CardCorpus:
    """The bona fide corpus of ``report`` as the card describes it."""
    if "vctk" in report:
        return CardCorpus(
            vctk=True,
            title="VCTK",
            name="the CSTR VCTK corpus",
            rate="VCTK's 48 kHz",
            table_rate=48000,
            input_rate="48 kHz",
            split="Speaker-disjoint split of the official release: validation = p226, p229; test = p227, p228; "
            "all\nother speakers = train.",
            license="VCTK audio and transcripts are Creative\nCommons Attribution 4.0 (CC BY 4.0)",
            bonafide_license=None,
            citation=VCTK_CITATION,
            source_datasets=[dataset_card.VCTK_HUB_ID],
        )
    source = report["source"]
    hub_id = source.get("hub_id")
    title = hub_id or Path(source["id"]).name
    name = f"`{hub_id}`" if hub_id else f"the local {source['kind']} corpus `{title}`"
    rates = "/".join(str(rate) for rate in source["sampling_rates"])
    link = f"https://huggingface.co/datasets/{hub_id}" if hub_id else ""
    return CardCorpus(
        vctk=False,
        title=title,
        name=name,
        rate=f"the corpus' own rate ({rates} Hz)",
        table_rate=rates,
        input_rate="the corpus rate",
        split=f"Splits: {describe_rule(source['split_rule'])}.",
        license=f"the bona fide audio and transcripts carry the licence of {name} ({source['license']})",
        bonafide_license=licenses.ConfigLicense(
            BONAFIDE_CONFIG, licenses.hub_license_id(source["license"]), source["license"], link
        ),
        citation="",
        source_datasets=[hub_id] if hub_id else None,
    )


def _exclusions(report: BuildReport) -> str:
    """Card text on the source, excluded source files and untranscribed utterances."""
    if "vctk" in report:
        vctk = report["vctk"]
        lines = [f"Source: VCTK {vctk['layout']} layout, microphone {vctk['mic']}."]
    else:
        source = report["source"]
        named = f"`{source['hub_id']}`" if source.get("hub_id") else f"a local {source['kind']} corpus"
        lines = [
            f"Source: {named} (licence: {source['license']}); splits: {describe_rule(source['split_rule'])}; "
            f"bona fide audio at {'/'.join(str(r) for r in source['sampling_rates'])} Hz."
        ]
    excluded = report["excluded"]
    if excluded:
        listed = ", ".join(e["utterance_id"] for e in excluded[:20]) + (" ..." if len(excluded) > 20 else "")
        lines.append(
            f"{len(excluded)} source file(s) could not be decoded and are left out of every config: {listed} "
            "(reasons in `build_report.json`)."
        )
    untranscribed = report["untranscribed"]
    if untranscribed["count"]:
        lines.append(
            f"{untranscribed['count']} utterance(s) have no {'VCTK ' if 'vctk' in report else ''}transcript (speakers with any: "
            f'{", ".join(untranscribed["speakers"])}); they are kept with `text == ""`.'
        )
    return " ".join(lines)


def _codec_table(configs: list[str], tiny: bool) -> str:
    """Paper Table 1 joined with the registry (checkpoint used, codebooks decoded, licence)."""
    rows = []
    for subset, entry in paper_codecs().iterrows():
        spec = get_spec(subset)
        rows.append(
            [
                subset,
                entry["family"],
                entry["model"],
                entry["training_data"],
                entry["sample_rate_hz"],
                f"{entry['n_codebooks_paper']} / {spec.n_quantizers}",
                entry["kbps_paper"],
                f"`{spec.repo_id}` ({spec.model_name})"
                + (" *tiny random weights here*" if tiny and spec.id in configs else ""),
                spec.license,
                "yes" if spec.id in configs else "no",
            ]
        )
    return markdown_table(
        rows,
        [
            "subset",
            "family",
            "model (paper)",
            "training data",
            "rate (Hz)",
            "codebooks paper / decoded",
            "kbps (paper)",
            "checkpoint used",
            "weights licence",
            "in this build",
        ],
    )


def write_card(out: str | os.PathLike, report: BuildReport, repo: str = "codecfake") -> Path:
    """Write ``out/README.md`` for ``report`` and record its sha256 in ``out/.build/`` (not pushed),
    so that a later build or push can tell whether somebody edited it; returns its path."""
    from codecfake_hf.files.hub_io import sha256_file

    path = Path(out) / "README.md"
    remove_leftovers(out, [path.name])  # of a killed earlier write; only one process writes the card
    with atomic_path(path) as temporary:
        render_card(report, repo).save(temporary)
    record = Path(out) / CARD_RECORD
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(sha256_file(path) + "\n", encoding="utf-8")
    return path


def card_was_edited(folder: str | os.PathLike, report: BuildReport | None = None) -> bool:
    """Whether ``folder/README.md`` differs from the card codecfake last wrote there (its sha256 in
    ``.build/``; without that record, from the card this version writes for ``report``). A folder
    without README.md has nothing to lose."""
    from codecfake_hf.files.hub_io import sha256_file

    folder = Path(folder)
    readme, record = folder / "README.md", folder / CARD_RECORD
    if not readme.is_file():
        return False
    if record.is_file():
        return sha256_file(readme) != record.read_text(encoding="utf-8").strip()
    return report is None or readme.read_text(encoding="utf-8") != str(render_card(report))


def push_to_hub(
    folder: str | os.PathLike, repo_id: str, private: bool = False, regenerate_card: bool = False
) -> str:
    """Upload a built folder to the Hub dataset repo ``repo_id`` (created if needed), without the
    build cache. Resumes when rerun (``HfApi.upload_folder`` with hf_xet commits in parts).

    Every check (folder, hf_xet, offline, repo id, token, write access) runs before any file in
    ``folder`` is touched. The card is (re)written, with ``repo_id`` in its loading examples, only
    when the folder has none, when it is still exactly what the build wrote, or with
    ``regenerate_card``; a card you edited is uploaded as it is.

    Returns:
        The dataset's URL.

    Raises:
        DatasetBuildError: ``folder`` is not a built CodecFake folder, or holds an imported corpus whose
            licence forbids publishing a converted copy (``publish_refusal`` of its corpus module).
        codecfake_hf.files.hub_io.HubPushError: no hf_xet, offline, no token, unreachable, refused or interrupted.
    """
    from codecfake_hf.files.hub_io import HubPushError, create_repo, hub_api_for_push, upload_folder

    folder = Path(folder)
    if not (folder / REPORT_FILE).is_file() or not (folder / "data").is_dir():
        raise DatasetBuildError(
            f"{folder}: not a built CodecFake folder (no {REPORT_FILE} or data/); run `codecfake build` first"
        )
    if importlib.util.find_spec("hf_xet") is None:
        raise HubPushError(
            "hf_xet is not installed: without it huggingface_hub uploads the dataset in one commit that "
            "cannot resume; run `pip install hf_xet`, then push again"
        )
    report = read_build_report(folder)
    if "imported" in report:
        from dataset_builder.corpora import corpus_from_report

        refusal = corpus_from_report(report["imported"]).publish_refusal
        if refusal:
            raise DatasetBuildError(f"{folder}: not pushed: {refusal}")
    api = hub_api_for_push(repo_id, "dataset")
    create_repo(api, repo_id, "dataset", private=private)
    readme = folder / "README.md"
    if regenerate_card or not card_was_edited(folder, report):
        write_card(folder, report, repo=repo_id)
    else:
        print(
            f"kept {readme} as it is (edited, or written by another version); pass --write-card to "
            f"regenerate it for {repo_id}"
        )
    return upload_folder(
        api, folder, repo_id, "dataset", ignore_patterns=PUSH_IGNORE,
        commit_message="CodecFake dataset (codecfake build)",
    )  # fmt: skip
