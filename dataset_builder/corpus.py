"""What every speech corpus's module produces: a list of :class:`Utterance` with their split (a
:class:`Manifest`), and the split rules for corpora that do not fix CodecFake's split themselves.

One module per corpus lists its utterances (the :class:`~dataset_builder.corpora.SpeechCorpus` rows of
:data:`~dataset_builder.corpora.CORPUS_KINDS`: ``vctk``, ``audiofolder``, ``hf_dataset``); the build
reads only the manifest. Split rules, in order (:func:`assign_splits`):

1. listed speakers (``--validation-speakers`` / ``--test-speakers``; every other speaker: train);
2. the source's own splits, when it has more than a train split (``split`` column, dataset splits);
3. seeded fractions of the speakers (of the utterances when the corpus names no speakers).

1 and 3 are speaker-disjoint.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.data.licenses import HUB_LICENSES_URL, closest_license_id, hub_license_id, license_slug
from dataset_builder import DatasetBuildError
from dataset_builder.source_options import SourceOptions

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
#: Split names sources use -> CodecFake's.
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "dev": "validation",
               "test": "test"}  # fmt: skip


@dataclass(frozen=True)
class Utterance:
    """One recording. ``path`` is absolute; ``text`` is "" when the corpus has no transcript."""

    speaker_id: str
    utterance_id: str
    path: str
    text: str
    split: str


class Manifest(abc.ABC):
    """What a speech corpus's ``prepare`` lists (a dataclass with ``root`` and ``utterances``; one class
    per corpus module, its ``MANIFEST``): the utterances, what the build report says of the corpus,
    counts, and the JSON form in which the main process of a launched build hands the list to the others."""

    root: Path
    utterances: list[Utterance]

    @abc.abstractmethod
    def report_entry(self) -> dict:
        """The build report's description of the corpus (``{"vctk": ...}``, ``{"source": ...}``)."""

    @abc.abstractmethod
    def reference_counts(self, split: str) -> dict:
        """Published counts of ``split`` to show next to the build's (``{}``: none)."""

    def to_json(self) -> dict:
        """The manifest as JSON values (what :meth:`from_json` reads back)."""
        data = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        return data | {"root": str(self.root), "utterances": [dataclasses.asdict(u) for u in self.utterances]}

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        """The manifest :meth:`to_json` wrote."""
        utterances = [Utterance(**utterance) for utterance in data["utterances"]]
        return cls(**(data | {"root": Path(data["root"]), "utterances": utterances}))

    @property
    def untranscribed(self) -> list[str]:
        """Utterance ids with no transcript."""
        return [u.utterance_id for u in self.utterances if not u.text]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{split: {"utterances": n, "speakers": n}}``."""
        result = {}
        for split in SPLITS:
            rows = [u for u in self.utterances if u.split == split]
            result[split] = {"utterances": len(rows), "speakers": len({u.speaker_id for u in rows})}
        return result


@dataclass
class CorpusManifest(Manifest):
    """The utterances of a corpus other than VCTK.

    Attributes:
        root: the folder the utterances' paths are reported relative to (corpus folder, or the build
            cache holding audio taken out of a dataset).
        utterances: sorted by utterance id.
        source: the build report's ``source`` entry: ``kind``, ``id``, ``license``, ``split_rule``, ...
    """

    root: Path
    utterances: list[Utterance]
    source: dict = field(default_factory=dict)

    def report_entry(self) -> dict:
        """``{"source": ...}``, the build report's description of the corpus."""
        return {"source": self.source}

    def reference_counts(self, split: str) -> dict:
        """Published counts to compare with (none for a corpus of one's own)."""
        return {}


@dataclass(frozen=True)
class Listed:
    """One utterance as a recipe lists it, before the split is assigned."""

    speaker_id: str
    utterance_id: str
    path: str
    text: str
    source_split: str | None = None


def assign_splits(
    listed: Sequence[Listed], options: SourceOptions, where: str
) -> tuple[list[Utterance], dict]:
    """Give every utterance its CodecFake split by the first rule that applies (module docstring).

    Args:
        listed: the corpus' utterances.
        options: the speaker lists and fractions.
        where: the source named in errors (``metadata.csv`` path, ``hf:ID``).

    Returns:
        The utterances sorted by id, and the rule as the report records it (``rule`` plus its settings).
    """
    ids = [item.utterance_id for item in listed]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise DatasetBuildError(
            f"{where}: utterance id {duplicate!r} occurs twice; file names must be unique"
        )
    speakers = sorted({item.speaker_id for item in listed if item.speaker_id})
    source_splits = {item.source_split for item in listed if item.source_split is not None}
    if options.validation_speakers or options.test_speakers:
        unknown = sorted(set(options.validation_speakers + options.test_speakers) - set(speakers))
        if unknown:
            raise DatasetBuildError(
                f"{where}: listed speaker(s) {', '.join(unknown)} not in the corpus; check "
                "--validation-speakers/--test-speakers"
            )
        both = set(options.validation_speakers) & set(options.test_speakers)
        if both:
            raise DatasetBuildError(
                f"{where}: speaker(s) {', '.join(sorted(both))} listed for validation and test"
            )
        by_speaker = {s: "validation" for s in options.validation_speakers}
        by_speaker |= {s: "test" for s in options.test_speakers}
        split_of = {item.utterance_id: by_speaker.get(item.speaker_id, "train") for item in listed}
        rule = {
            "rule": "listed speakers",
            "validation_speakers": sorted(options.validation_speakers),
            "test_speakers": sorted(options.test_speakers),
        }
    elif source_splits - {"train"}:
        if any(item.source_split is None for item in listed):
            missing = next(item.utterance_id for item in listed if item.source_split is None)
            raise DatasetBuildError(
                f"{where}: utterance {missing!r} has no split; give every row one, or none"
            )
        unknown = sorted(source_splits - set(SPLIT_NAMES))
        if unknown:
            raise DatasetBuildError(
                f"{where}: split {unknown[0]!r} is none of {', '.join(SPLIT_NAMES)}; rename it, or use one "
                "split (--source-split) and split by speakers"
            )
        split_of = {item.utterance_id: SPLIT_NAMES[item.source_split] for item in listed}
        rule = {"rule": "source splits"}
    else:
        split_of, rule = _fractions(listed, speakers, options)
    utterances = [
        Utterance(item.speaker_id, item.utterance_id, item.path, item.text, split_of[item.utterance_id])
        for item in sorted(listed, key=lambda item: item.utterance_id)
    ]
    return utterances, rule


def _fractions(listed: Sequence[Listed], speakers: list[str], options: SourceOptions) -> tuple[dict, dict]:
    """Seeded shares of the speakers (or of the utterances, without speakers) for validation and test;
    at least one group each when the share is positive and three or more groups exist."""
    for name, value in (("validation", options.validation_fraction), ("test", options.test_fraction)):
        if not 0 <= value < 1:
            raise DatasetBuildError(f"--{name}-fraction {value}: must be at least 0 and below 1")
    if options.validation_fraction + options.test_fraction >= 1:
        raise DatasetBuildError(
            "--validation-fraction plus --test-fraction must stay below 1 (train needs some)"
        )
    by = "speaker" if speakers else "utterance"
    groups = speakers if speakers else sorted(item.utterance_id for item in listed)
    random.Random(options.split_seed).shuffle(groups)

    def share(fraction: float) -> int:
        return max(1, round(fraction * len(groups))) if fraction > 0 and len(groups) >= 3 else 0

    n_validation, n_test = share(options.validation_fraction), share(options.test_fraction)
    group_split = {g: "validation" for g in groups[:n_validation]}
    group_split |= {g: "test" for g in groups[n_validation : n_validation + n_test]}
    key = (lambda item: item.speaker_id) if speakers else (lambda item: item.utterance_id)
    split_of = {item.utterance_id: group_split.get(key(item), "train") for item in listed}
    rule = {
        "rule": f"seeded fractions by {by}",
        "validation_fraction": options.validation_fraction,
        "test_fraction": options.test_fraction,
        "seed": options.split_seed,
    }
    return split_of, rule


def describe_rule(rule: dict) -> str:
    """One sentence for the card: how the splits were made."""
    if rule["rule"] == "listed speakers":
        return (
            f"speaker-disjoint, listed speakers (validation: {', '.join(rule['validation_speakers']) or 'none'}; "
            f"test: {', '.join(rule['test_speakers']) or 'none'}; every other speaker: train)"
        )
    if rule["rule"] == "source splits":
        return "the source's own splits"
    return (
        f"{rule['rule']} (validation {rule['validation_fraction']}, test {rule['test_fraction']}, seed "
        f"{rule['seed']})"
    )


def source_license(declared: str | None, options: SourceOptions, where: str) -> str:
    """The corpus licence: ``--source-license``, else what the source declares, else "unknown" with a
    warning (the card then says so). A licence the Hub has no id for is kept as stated, with a warning:
    the card writes ``license: other`` and the licence's name (``license_name``), as the Hub asks."""
    license = options.source_license or declared
    if not license:
        logger.warning(
            "%s: no licence given or declared; the card says 'unknown'. Pass --source-license (a Hub licence "
            "id such as cc-by-4.0) before you publish",
            where,
        )
        return "unknown"
    if hub_license_id(license) == "other" and license.strip().lower() != "other":
        closest = closest_license_id(license)
        logger.warning(
            "%s: the licence %r is no Hub licence id or name%s; the card says 'license: other' with "
            "license_name %r. The Hub's ids: %s",
            where,
            license,
            f" (did you mean {closest}?)" if closest else "",
            license_slug(license),
            HUB_LICENSES_URL,
        )
    return license


def chosen_column(
    columns: Sequence[str], chosen: str | None, default: str, flag: str, where: str
) -> str | None:
    """The column to read: ``chosen`` (the value of option ``flag``), which must be one of ``columns``;
    else ``default`` when present; else None.

    Raises:
        DatasetBuildError: ``chosen`` is no column, naming ``where`` (the metadata file, ``hf:ID``), the
            columns and the option.
    """
    if chosen is None:
        return default if default in columns else None
    if chosen not in columns:
        raise DatasetBuildError(f"{where}: no column {chosen!r} (columns: {', '.join(columns)}); fix {flag}")
    return chosen


def relative_id(path: str | os.PathLike) -> str:
    """An utterance id from a relative file path: the path without its suffix, '/' -> '_'."""
    return Path(path).with_suffix("").as_posix().replace("/", "_")
