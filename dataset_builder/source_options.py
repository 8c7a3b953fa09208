"""Which speech corpus to build from (:class:`SourceOptions`): the one place where each source option,
its default and its description live; the corpora themselves are the rows of
:data:`dataset_builder.corpora.SOURCE_KINDS`.

``codecfake build`` turns every field into a flag with ``transformers.HfArgumentParser``, next to
:class:`~dataset_builder.build_options.BuildOptions`. Like that module, this one imports nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dataset_builder.corpora import SOURCE_KINDS


def _listed(items: list[str]) -> str:
    """``a, b or c``."""
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


@dataclass(frozen=True)
class SpeakerLists:
    """The speakers of the validation and test splits, chosen by the user (every other speaker: train):
    options of ``codecfake build`` and of the imports of speaker-split corpora."""

    validation_speakers: list[str] = field(
        default_factory=list,
        metadata={"help": "speakers of the validation split (then --test-speakers; every other one: train)"},
    )
    test_speakers: list[str] = field(default_factory=list, metadata={"help": "speakers of the test split"})


@dataclass(frozen=True)
class SourceOptions(SpeakerLists):
    """What to build from; each field's ``help`` says what it does (``codecfake build --help``)."""

    source: str | None = field(
        default=None,
        metadata={
            "help": "the bona fide corpus: "
            + _listed([f"{kind.name}:{kind.location} ({kind.summary})" for kind in SOURCE_KINDS.values()])
        },
    )
    source_config: str | None = field(default=None, metadata={"help": "hf: the dataset's configuration"})
    source_split: str | None = field(
        default=None,
        metadata={
            "help": "hf: use this split of the dataset only (then split it by speakers); default: all of "
            "its splits, which must be named train/validation/test (or dev/valid)"
        },
    )
    audio_column: str = field(default="audio", metadata={"help": "hf: the audio column"})
    speaker_column: str | None = field(
        default=None, metadata={"help": "the speaker column (default: speaker_id when there is one)"}
    )
    text_column: str | None = field(
        default=None, metadata={"help": "the transcript column (default: text when there is one)"}
    )
    source_license: str | None = field(
        default=None,
        metadata={
            "help": "licence of the corpus audio: any Hub licence id (cc-by-4.0, gpl-3.0, odc-by, ...) or its "
            "name; another licence is written 'other' with its name (with a warning); default: the "
            "dataset's declared licence, else 'unknown' (with a warning)"
        },
    )
    validation_fraction: float = field(
        default=0.1,
        metadata={
            "help": "without the source's own splits or listed speakers: share of speakers in validation"
        },
    )
    test_fraction: float = field(default=0.1, metadata={"help": "likewise, the share of speakers in test"})
    split_seed: int = field(default=0, metadata={"help": "seed of the speakers' shuffle for those fractions"})

    def kind_and_location(self) -> tuple[str, str]:
        """``("audiofolder", "PATH")`` from ``source="audiofolder:PATH"``.

        Raises:
            DatasetBuildError: no known prefix.
        """
        from dataset_builder import DatasetBuildError

        kind, _, location = (self.source or "").partition(":")
        if kind not in SOURCE_KINDS or not location:
            expected = _listed([f"{kind.name}:{kind.location}" for kind in SOURCE_KINDS.values()])
            raise DatasetBuildError(
                f"--source {self.source!r}: expected {expected} (e.g. audiofolder:./my_corpus or hf:user/speech)"
            )
        return kind, location

    @classmethod
    def of(cls, source: str | os.PathLike | SourceOptions) -> SourceOptions:
        """``source`` as options: a path is a VCTK folder (``vctk:PATH``, what ``--vctk PATH`` passes)."""
        return source if isinstance(source, SourceOptions) else cls(source=f"vctk:{os.fspath(source)}")
