"""Which speech corpus to build from, besides VCTK (:class:`SourceOptions`): the one place where each
source option, its default and its description live.

``codecfake build`` turns every field into a flag with ``transformers.HfArgumentParser``, next to
:class:`~dataset_builder.build_options.BuildOptions`. Like that module, this one imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: ``--source`` prefixes: the corpus recipe each selects.
SOURCE_KINDS = ("vctk", "audiofolder", "hf")


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
            "help": "the bona fide corpus: vctk:PATH (same as --vctk PATH), audiofolder:PATH (a folder with "
            "metadata.csv: file_name and optional speaker_id, text, split) or hf:ID (a Hugging Face audio "
            "dataset: Hub id, local dataset folder, or a folder written by save_to_disk)"
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
            raise DatasetBuildError(
                f"--source {self.source!r}: expected vctk:PATH, audiofolder:PATH or hf:ID (e.g. "
                "audiofolder:./my_corpus or hf:user/speech)"
            )
        return kind, location
