"""``build_report.json``: what a build holds and what it left out, written last by ``codecfake build``
and read by the next build, by ``codecfake push`` and for the dataset card.

:class:`BuildReport` is the shape of the JSON object (a dict, as :func:`~dataset_builder.build.build_codecfake`
returns it); :func:`write_build_report` and :func:`read_build_report` are its one writer and reader.
"""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path
from typing import TypedDict

from codecfake_hf.files.atomic_files import atomic_path, remove_leftovers
from codecfake_hf.files.json_files import read_json
from dataset_builder import DatasetBuildError
from dataset_builder.build_cache import BUILD_VERSION

#: The report's file name in a built folder.
REPORT_FILE = "build_report.json"


class _Corpus(TypedDict, total=False):
    """The corpus a build read, or the corpus imported: exactly one of the keys (see :class:`BuildReport`)."""

    vctk: dict
    source: dict
    imported: dict


#: The keys of :class:`_Corpus`, one of which every report holds.
CORPUS_KEYS = ("vctk", "source", "imported")


class BuildReport(_Corpus):
    """The build report.

    Keys:
        vctk: a VCTK corpus: ``root`` (absolute path), ``layout`` ("0.92" or "0.80"), ``mic``.
        source: instead of ``vctk``, any other corpus: ``kind`` ("audiofolder", "hf"), ``id`` (folder
            or Hub id), ``hub_id``, ``config``, ``split`` (hf), ``license``, ``columns`` (audio, speaker,
            text), ``split_rule`` (``rule`` and its settings), ``root`` (absolute path), ``sampling_rates``.
        imported: instead of both, a published corpus copied by ``codecfake import``
            (:mod:`dataset_builder.corpus_import`): ``kind``, ``title``, the source (``id``, ``hub_id``,
            ``revision``), ``license``, ``split_rule``, ``options``, ``inputs`` (every input file with its
            ``bytes`` and ``sha256``), ``configs`` (per config: ``codec_names``, the taxonomy labels,
            ``rows`` per split, ``hours``, ``sampling_rates``), ``shared_speakers``, ``notes``.
        tiny_codecs: whether the codecs had tiny random weights (tests, demos).
        configs: the configs built completely (``bonafide`` first, then the codec ids).
        splits: per split: ``utterances``, ``speakers``, ``hours`` (bona fide), and for VCTK the paper's
            ``paper_utterances`` and ``paper_speakers``.
        excluded: the source files no config holds (``utterance_id``, ``speaker_id``, ``split``,
            ``path`` relative to the corpus ``root``, ``error``).
        untranscribed: utterances without a transcript: ``count``, ``speakers``, ``utterances`` (builds
            only: an import copies the corpus's own text, or none).
        build_version: :data:`~dataset_builder.build_cache.BUILD_VERSION` of the build (the shards'
            columns); a report of another version is refused by :func:`read_build_report`.
        mixtures: the mixture configs (:mod:`codecfake_hf.data.mixtures`), by name: ``selection`` (as
            written after ``NAME=``), ``subsets`` (the built subsets it pools) and ``held_out`` (those
            its exclusions remove: the held-out test).
    """

    tiny_codecs: bool
    configs: list[str]
    splits: dict
    excluded: list[dict]
    untranscribed: dict
    build_version: int
    mixtures: dict


def write_build_report(out: str | os.PathLike, report: BuildReport) -> Path:
    """Write ``out/build_report.json`` (indented JSON, atomically); returns its path."""
    path = Path(out) / REPORT_FILE
    remove_leftovers(out, [REPORT_FILE])  # of a killed earlier write; only one process writes the report
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path


def read_build_report(out: str | os.PathLike) -> BuildReport:
    """The report of the build in ``out``.

    Raises:
        DatasetBuildError: no report, or not the JSON object a build writes (names what is wrong and
            says to rerun the build).
    """
    path = Path(out) / REPORT_FILE
    fix = "rerun `codecfake build` into this folder"
    report = read_json(path, fix, DatasetBuildError)
    expected = typing.get_type_hints(BuildReport)
    present = [key for key in CORPUS_KEYS if isinstance(report, dict) and key in report]
    corpus = present[0] if len(present) == 1 else "vctk"
    # an import has no transcripts to report missing
    required = BuildReport.__required_keys__ - ({"untranscribed"} if corpus == "imported" else set()) | {
        corpus
    }
    wrong = [
        key
        for key, kind in expected.items()
        if key in required
        and (not isinstance(report, dict) or not isinstance(report.get(key), typing.get_origin(kind) or kind))
    ]
    version = report.get("build_version", 1) if isinstance(report, dict) else None
    if version != BUILD_VERSION and not set(wrong) - {"build_version", "mixtures"}:
        raise DatasetBuildError(
            f"{path}: written by build version {version}, this codecfake reads version {BUILD_VERSION} "
            f"(the shards' columns changed); {fix}: it rebuilds every shard"
        )
    if wrong:
        raise DatasetBuildError(f"{path}: not a build report (missing or wrong: {', '.join(wrong)}); {fix}")
    return report
