"""The Hub layout of a built CodecFake folder: its dataset card (README.md with the ``configs:``
YAML) and the upload to the Hub.

Layout (``--out``, default ``./codecfake``)::

    README.md                         card; YAML `configs:` = bonafide + one per subset
    build_report.json                 counts, excluded source files, untranscribed utterances
    data/bonafide/<split>-NNNNN-of-MMMMM.parquet
    data/<subset>/<split>-NNNNN-of-MMMMM.parquet

Config ``E``'s ``data_files`` for a split are ``data/bonafide/<split>-*`` plus ``data/E/<split>-*``,
so ``load_dataset("codecfake", "E")`` yields both labels while bona fide audio is stored once.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from string import Template

import yaml

from codecfake_hf.codecs.registry import CODECS, get_spec
from codecfake_hf.tables import paper_codecs
from codecfake_hf.taxonomy import taxonomy_table
from dataset_builder import BONAFIDE, DatasetBuildError
from dataset_builder.vctk import SPLITS, VCTK_CITATION

#: What a push leaves out: the builder's cache and unfinished files.
PUSH_IGNORE = [".build/**", "**/*.tmp"]


def config_yaml(configs: list[str], splits: list[str]) -> list[dict]:
    """The ``configs:`` entries: ``bonafide`` first, then each subset listing the bona fide shards
    and its own for every split in ``splits``."""
    entries = []
    for config in [BONAFIDE, *[c for c in configs if c != BONAFIDE]]:
        sources = [BONAFIDE] if config == BONAFIDE else [BONAFIDE, config]
        data_files = [
            {"split": split, "path": [f"data/{source}/{split}-*.parquet" for source in sources]}
            for split in splits
        ]
        entries.append({"config_name": config, "data_files": data_files})
    return entries


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _size_category(rows: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if rows < limit:
            return name
    return "1M<n<10M"


def render_card(report: dict, repo: str = "codecfake") -> str:
    """The dataset card (README.md) of a build, from ``codecfake_hf/model_cards/dataset_card.md``.

    Args:
        report: the build report (:func:`dataset_builder.build.build_report`).
        repo: the name shown in the loading example ("ORG/NAME" once pushed).
    """
    splits = report["splits"]
    present = [s for s in SPLITS if splits[s]["utterances"]]
    configs = report["configs"]
    subsets = [c for c in configs if c != BONAFIDE]
    total_rows = sum(splits[s]["utterances"] for s in present) * (1 + len(subsets))
    header = {
        "pretty_name": "CodecFake",
        "license": "other",
        "license_name": "vctk-cc-by-4.0-and-codec-weight-licences",
        "language": ["en"],
        "task_categories": ["audio-classification"],
        "tags": ["anti-spoofing", "deepfake-detection", "audio-deepfake", "neural-audio-codec", "vctk"],
        "size_categories": [_size_category(total_rows)],
        "configs": config_yaml(configs, present),
    }
    config_rows = []
    for config in [c for c in [BONAFIDE, *subsets] if c in configs]:
        factor = 1 if config == BONAFIDE else 2
        rate = 48000 if config == BONAFIDE else get_spec(config).sample_rate
        counts = [f"{factor * splits[s]['utterances']:,}" for s in SPLITS]
        hours = sum(factor * splits[s]["hours"] for s in SPLITS)
        config_rows.append(
            [config, "VCTK" if config == BONAFIDE else get_spec(config).family, rate, *counts, f"{hours:.2f}"]
        )
    split_rows = [
        [
            s,
            f"{splits[s]['utterances']:,}",
            f"{splits[s]['paper_utterances']:,}",
            len(splits[s]["speakers"]),
            splits[s]["paper_speakers"],
            f"{splits[s]['hours']:.2f}",
        ]
        for s in SPLITS
    ]
    template = (
        resources.files("codecfake_hf.model_cards").joinpath("dataset_card.md").read_text(encoding="utf-8")
    )
    return Template(template).substitute(
        yaml=yaml.safe_dump(header, sort_keys=False, allow_unicode=True),
        repo=repo,
        tiny_warning=(
            "> **Test build**: the codecs here are tiny random-weight models (`--tiny`), not the official "
            "checkpoints. Do not use this data for research.\n"
            if report["tiny_codecs"]
            else ""
        ),
        configs_table=_table(
            ["config", "codec", "rate (Hz)", "train", "validation", "test", "hours"], config_rows
        ),
        split_table=_table(
            ["split", "utterances", "paper", "speakers", "paper", "hours (bona fide)"], split_rows
        ),
        exclusions=_exclusions(report),
        codec_table=_codec_table(configs, report["tiny_codecs"]),
        non_commercial=", ".join(
            f"{spec.id} ({spec.family})" for spec in CODECS.values() if "NC" in spec.licence
        ),
        processing="\n".join(f"- {c}: {get_spec(c).processing}" for c in subsets)
        or "- (no codec subset built)",
        taxonomy_table=taxonomy_table(subsets) if subsets else "(no codec subset built)",
        vctk_citation=VCTK_CITATION,
    )


def _exclusions(report: dict) -> str:
    """Card text on excluded source files and untranscribed utterances."""
    vctk = report["vctk"]
    lines = [f"Source: VCTK {vctk['layout']} layout, microphone {vctk['mic']}."]
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
            f"{untranscribed['count']} utterance(s) have no VCTK transcript (speakers with any: "
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
                spec.licence,
                "yes" if spec.id in configs else "no",
            ]
        )
    return _table(
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
        rows,
    )


def write_card(out: str | os.PathLike, report: dict, repo: str = "codecfake") -> Path:
    """Write ``out/README.md`` for ``report``; returns its path."""
    path = Path(out) / "README.md"
    path.write_text(render_card(report, repo), encoding="utf-8")
    return path


def push_to_hub(folder: str | os.PathLike, repo_id: str, private: bool = False) -> str:
    """Upload a built folder to the Hub dataset repo ``repo_id`` (created if needed), without the
    build cache, after writing the repo id into the card's loading example. Resumes when rerun.

    Returns:
        The dataset's URL.

    Raises:
        DatasetBuildError: ``folder`` is not a built CodecFake folder.
        codecfake_hf.hub.HubPushError: offline, no token, unreachable, refused or interrupted.
    """
    from codecfake_hf.hub import push_folder

    folder = Path(folder)
    if not (folder / "README.md").is_file() or not (folder / "data").is_dir():
        raise DatasetBuildError(
            f"{folder}: not a built CodecFake folder (no README.md or data/); run `codecfake build` first"
        )
    report = folder / "build_report.json"
    if report.is_file():  # the card's loading example names the repo
        write_card(folder, json.loads(report.read_text(encoding="utf-8")), repo=repo_id)
    return push_folder(
        folder, repo_id, "dataset", private=private, ignore_patterns=PUSH_IGNORE,
        commit_message="CodecFake dataset (codecfake build)",
    )  # fmt: skip
