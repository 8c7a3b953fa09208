"""The mixture configs of a build (:mod:`codecfake_hf.data.mixtures`): merged with those an earlier build
recorded, resolved against the built subsets into ``build_report.json``, and added to an existing
build without rebuilding anything (``codecfake mixtures``). The card lists them as configs whose
``data_files`` are the subsets' shards (:func:`dataset_builder.publishing.render_card`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from codecfake_hf.codecs.registry import TAXONOMY_FIELDS
from codecfake_hf.data.mixtures import Mixture, Taxonomy, parse_mixture
from dataset_builder import DatasetBuildError
from dataset_builder.build_report import BuildReport, read_build_report, write_build_report


def recorded_mixtures(report: BuildReport | None) -> list[Mixture]:
    """The mixtures ``report`` records (none without a report)."""
    entries: Mapping[str, dict] = (report or {}).get("mixtures") or {}
    return [parse_mixture(f"{name}={entry['selection']}") for name, entry in entries.items()]


def merged_mixtures(
    earlier: Iterable[Mixture], added: Sequence[Mixture], remove: Sequence[str] = ()
) -> list[Mixture]:
    """``earlier`` mixtures, less those named in ``remove``, then ``added`` (one replaces an earlier
    mixture of its name), in that order.

    Raises:
        DatasetBuildError: ``remove`` names no mixture.
    """
    mixtures = {mixture.name: mixture for mixture in earlier}
    unknown = [name for name in remove if name not in mixtures]
    if unknown:
        raise DatasetBuildError(
            f"no mixture {', '.join(unknown)} to remove; this build has: {', '.join(mixtures) or 'none'}"
        )
    for name in remove:
        del mixtures[name]
    mixtures |= {mixture.name: mixture for mixture in added}
    return list(mixtures.values())


def report_taxonomy(report: BuildReport | None) -> Taxonomy | None:
    """The taxonomy labels of an imported folder's configs (``imported.configs``), which mixtures are
    resolved against; None for a build, whose subsets are registered codecs."""
    imported = (report or {}).get("imported")
    if imported is None:
        return None
    return {
        config: {field: entry[field] for field in TAXONOMY_FIELDS}
        for config, entry in imported["configs"].items()
    }


def resolved_mixtures(
    mixtures: Iterable[Mixture], configs: Sequence[str], taxonomy: Taxonomy | None = None
) -> dict[str, dict]:
    """The report's ``mixtures``: each mixture's ``selection``, and the ``subsets`` of ``configs`` it
    pools and holds out (``taxonomy``: the labels of configs that are no registered codec)."""
    resolved = {}
    for mixture in mixtures:
        included, held_out = mixture.resolve(configs, taxonomy)
        resolved[mixture.name] = {"selection": mixture.selection, "subsets": included, "held_out": held_out}
    return resolved


def add_mixtures(
    folder: str | os.PathLike, specs: Sequence[str], remove: Sequence[str] = (), regenerate_card: bool = False
) -> BuildReport:
    """Add the mixtures ``specs`` to (and remove those named ``remove`` from) the build in ``folder``:
    its report and card are rewritten, no audio is touched.

    Raises:
        DatasetBuildError: ``folder`` holds no build of this version, or its card was edited since
            the build wrote it (``regenerate_card`` overrides).
        MixtureSpecError: a spec does not parse or selects no built subset.
    """
    from dataset_builder.publishing import card_was_edited, write_card

    folder = Path(folder)
    report = read_build_report(folder)
    added = [parse_mixture(spec) for spec in specs]
    taxonomy = report_taxonomy(report)
    for mixture in added:
        mixture.check(report["configs"], taxonomy)
    mixtures = merged_mixtures(recorded_mixtures(report), added, remove)
    if not regenerate_card and card_was_edited(folder, report):
        raise DatasetBuildError(
            f"{folder / 'README.md'}: edited since codecfake wrote it, and adding a config rewrites the card; "
            "nothing was changed: keep a copy of your edits, then pass --write-card"
        )
    report = report | {"mixtures": resolved_mixtures(mixtures, report["configs"], taxonomy)}
    write_build_report(folder, report)
    write_card(folder, report)
    return report


def describe_mixtures(folder: str | os.PathLike, report: BuildReport) -> list[str]:
    """One line per mixture: what it pools, and the command that tests on what it holds out."""
    lines = []
    for name, entry in report["mixtures"].items():
        line = f"config {name} = bonafide + {', '.join(entry['subsets'])}"
        if entry["held_out"]:
            held_out = ",".join(entry["held_out"])
            line += f"; held out: codecfake evaluate --dataset {folder} --subsets {held_out}"
        lines.append(line)
    return lines
