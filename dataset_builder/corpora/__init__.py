"""Every corpus this project reads, one module and one row of the table :data:`CORPUS_KINDS` each.

The table has two kinds of row, because the two uses of a corpus share no code past the listing:

- :class:`SpeechCorpus`: a speech corpus ``codecfake build --source KIND:LOCATION`` resynthesizes
  (VCTK, a folder of audio, a Hugging Face dataset). Its module (``vctk``, ``audiofolder``,
  ``hf_dataset``) holds ``prepare(location, source, options, cache_dir)``, which lists the
  utterances with their split as a manifest (:mod:`dataset_builder.corpus`), and ``MANIFEST``, the
  manifest's class (what a launched build's other processes read the listing back into). The build
  (:mod:`dataset_builder.build`) does the rest alike for every one: decode check, shards, codecs.
- :class:`PublishedCorpus`: a published corpus ``codecfake import KIND SOURCE --out DIR`` copies
  (the CodecFake release, ASVspoof 2019 LA, ...). Its module (``release``, ``asvspoof2019``, ...)
  holds ``Options``, a frozen dataclass of the corpus's own options (each field a flag of
  ``codecfake import KIND``, made by ``transformers.HfArgumentParser``; its ``help`` says what it
  does), and ``Corpus``, an :class:`ImportedCorpus` made from ``(SOURCE, Options)``, which says what
  the corpus is (licence, citation, card text), cuts it into :class:`InputPart` s that one process
  each reads whole, and reads a part into rows (:meth:`ImportedCorpus.open_part`). The import engine
  (:mod:`dataset_builder.corpus_import`) does the rest alike for every one: the parts shared out over
  the processes of ``accelerate launch`` (part ``i`` to process ``i mod world``), one fingerprinted
  parquet file per part, config and split written atomically, resume, the taxonomy columns, the
  report, mixtures and the card.

This module and the published corpora's modules import nothing heavy at the top: the command line
builds its parsers from the table and their ``Options`` without loading ``datasets``.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from dataset_builder import DatasetBuildError

#: The shard columns a corpus yields per row; the engine adds the taxonomy columns. ``audio`` is
#: ``{"bytes", "path"}`` (the corpus's own bytes, unchanged), ``label`` 0 spoof / 1 bona fide, ``codec``
#: the config the row belongs to, ``codec_name`` the corpus's own key for it, ``sampling_rate`` the rate
#: (Hz) in the audio's header, ``text`` the transcript or "", ``speaker_id`` "" where the corpus names
#: no speaker (such rows count as no speaker in the split checks). Besides them, columns the engine
#: reads and does not write: ``split`` (train / validation / test), ``seconds`` (the clip's length) and
#: ``error`` (None, or why the row's audio cannot be read: the row is then left out and listed in the
#: report). A bona fide row (label 1) of a config other than ``bonafide`` is that config's own
#: reference audio (CodecFake+'s CoSG systems come with the bona fide clips of their demo pages): it
#: gets the bona fide taxonomy labels, and the config then loads its own folder alone, without the
#: ``bonafide`` config's rows.
ROW_COLUMNS = ("audio", "label", "speaker_id", "utterance_id", "codec", "codec_name", "sampling_rate", "text")
#: How a config that is no registered codec and has no known taxonomy is labelled.
UNKNOWN = "unknown"
#: Config names: what a ``data/<config>/`` folder and a ``load_dataset`` config may be called.
CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class InputPart:
    """A piece of the corpus that one process reads whole: one parquet shard of the release, one chunk of
    an ASVspoof protocol. It writes ``data/<config>/<split>-<index>-of-<count>.parquet`` for every config
    and split it has rows of, so no two parts that can share a config and split may share ``index``.

    Attributes:
        name: how progress bars, errors and the report name it (``data/train-00042-of-00161.parquet``).
        index, count: the number of its output files (from 0) and how many a config and split can have.
        identity: JSON value that changes when the part's content does (a file's sha256 as the Hub lists
            it, sizes and modification times): with the corpus's fingerprint it tells whether the files
            an earlier run wrote for this part are current.
        location: JSON value the corpus reads the part from (a path, a Hub file and commit, rows).
        rows: the number of rows when known before reading (the progress bar's total), else None.
    """

    name: str
    index: int
    count: int
    identity: Any
    location: Any
    rows: int | None = None


@dataclass(frozen=True)
class Listing:
    """What listing a corpus finds: its ``parts`` and ``source``, the report's description of where
    they come from (``id``: folder or Hub id; ``hub_id``; ``revision``: the commit read; anything else
    the corpus records, such as the sha256 of its protocol files)."""

    parts: list[InputPart]
    source: dict


@dataclass
class OpenedPart:
    """A part ready to read: ``batches`` yields ``{column: list}`` of :data:`ROW_COLUMNS` and ``split``,
    ``seconds``, ``error`` (any number of rows each); ``input`` describes the input file(s) read for the
    report (``name``, ``bytes``, ``sha256``; a list for several), None for a part that is no whole file.
    The engine reads ``input`` once ``batches`` is exhausted, so a part that hashes an archive as it
    streams it sets it at the end."""

    batches: Iterator[dict[str, list]]
    input: dict | list[dict] | None = None


class ImportedCorpus(abc.ABC):
    """A published corpus as ``codecfake import`` reads it (see the module docstring).

    Class attributes describe the corpus for the card and the report; ``source`` is SOURCE as the user
    gave it and ``options`` the corpus's ``Options``.
    """

    #: the KIND of ``codecfake import KIND``
    kind: ClassVar[str]
    #: the card's title and ``pretty_name``
    title: ClassVar[str]
    #: one paragraph: what the corpus is, who made it
    description: ClassVar[str]
    #: Hub licence id, the licence as stated, and where it is stated
    license: ClassVar[str]
    license_name: ClassVar[str]
    license_link: ClassVar[str]
    #: who to credit and what the import changed (one paragraph), and the BibTeX to cite
    attribution: ClassVar[str]
    citation: ClassVar[str]
    #: the card's ``language``
    language: ClassVar[list[str]] = ["en"]
    #: what one spoof config holds, in the card's words ("one config per codec")
    config_noun: ClassVar[str] = "codec"
    #: None when a converted copy may be published (``codecfake push``); else why it may not
    publish_refusal: ClassVar[str | None] = None

    def __init__(self, source: str, options: Any) -> None:
        """Check ``options`` (no file is read here: the card and ``push`` make a corpus again from
        the report, :func:`corpus_from_report`). A corpus whose licence or refusal depends on its
        options sets ``license``, ``license_name``, ``license_link`` and ``publish_refusal`` on the
        instance."""
        self.source, self.options = source, options

    @abc.abstractmethod
    def fingerprint(self) -> Any:
        """JSON value of everything besides the parts' content that the rows depend on (the options
        that choose labels, ids and splits): a change redoes every part."""

    @abc.abstractmethod
    def list_parts(self) -> Listing:
        """List the corpus (run once, by the main process) and check what can be checked before any
        audio is read.

        Raises:
            DatasetBuildError: SOURCE is missing or not this corpus; one line naming the file and value.
        """

    @abc.abstractmethod
    def open_part(self, part: InputPart, scratch: Path) -> contextlib.AbstractContextManager[OpenedPart]:
        """A context manager yielding the :class:`OpenedPart` of ``part``; ``scratch`` is this part's
        folder in the import cache (for a download), which the engine deletes once the part is read or
        has failed.

        Raises:
            DatasetBuildError: a value that contradicts the corpus's facts (an unknown label, column or
                file name), naming the file, the row and the value.
        """

    @abc.abstractmethod
    def split_rule(self) -> dict:
        """How rows get their split, as the report records it (``rule`` and its settings;
        :func:`dataset_builder.corpus.describe_rule` words it for the card)."""

    @abc.abstractmethod
    def taxonomy(self, config: str) -> dict[str, str]:
        """The taxonomy labels of spoof config ``config`` (``family``, ``quantizer``, ``auxiliary``,
        ``decoder_domain``, in the registry's vocabulary: ``MVQ``, ``semantic distillation``,
        ``frequency``, ...; :data:`UNKNOWN` where the corpus does not say)."""

    @abc.abstractmethod
    def check(self, summary: ImportSummary) -> None:
        """Check what only the whole corpus shows, once every part is read (speakers listed for a split
        that no row has, speakers shared by splits).

        Raises:
            DatasetBuildError: naming the value and the option that changes the rule.
        """

    def notes(self) -> list[str]:
        """Sentences for the card and the report: which of the corpus's facts this import relied on,
        and which of them are options because they were not verified."""
        return []

    def reference_counts(self) -> dict[str, int]:
        """Published bona fide rows per split, to show next to the import's (none by default)."""
        return {}


@dataclass(frozen=True)
class ImportSummary:
    """What every part of an import wrote, for :meth:`ImportedCorpus.check`: per config and split the
    number of rows, and the speakers of each split (all configs together)."""

    rows: Mapping[str, Mapping[str, int]]
    speakers: Mapping[str, Sequence[str]]

    def shared_speakers(self) -> dict[str, list[str]]:
        """``{speaker: [splits]}`` for every speaker in more than one split."""
        splits: dict[str, list[str]] = {}
        for split, speakers in self.speakers.items():
            for speaker in speakers:
                splits.setdefault(speaker, []).append(split)
        return {speaker: names for speaker, names in sorted(splits.items()) if len(names) > 1}


@dataclass(frozen=True)
class CorpusKind:
    """One row of the table of corpora: ``name`` (KIND), ``summary`` (the help line), ``module`` (the
    corpus module)."""

    name: str
    summary: str
    module: str


@dataclass(frozen=True)
class SpeechCorpus(CorpusKind):
    """A speech corpus a build resynthesizes, ``--source NAME:LOCATION``; ``location`` is how the help
    names what follows the colon."""

    location: str = "PATH"


@dataclass(frozen=True)
class PublishedCorpus(CorpusKind):
    """A published corpus an import copies, ``codecfake import NAME SOURCE``."""


#: The one table of corpora, KIND -> row: the speech corpora a build resynthesizes, then the published
#: corpora an import copies (the module docstring says what each kind of row's module holds).
CORPUS_KINDS: dict[str, CorpusKind] = {
    kind.name: kind
    for kind in (
        SpeechCorpus("vctk", "same as --vctk PATH", "dataset_builder.corpora.vctk"),
        SpeechCorpus(
            "audiofolder",
            "a folder with metadata.csv: file_name and optional speaker_id, text, split",
            "dataset_builder.corpora.audiofolder",
        ),
        SpeechCorpus(
            "hf",
            "a Hugging Face audio dataset: Hub id, local dataset folder, or a folder written by save_to_disk",
            "dataset_builder.corpora.hf_dataset",
            location="ID",
        ),
        PublishedCorpus(
            "release",
            "the CodecFake release of Wu et al. (2024): Hub id rogertseng/CodecFake or a local snapshot",
            "dataset_builder.corpora.release",
        ),
        PublishedCorpus(
            "codecfake-plus",
            "CodecFake+ (Chen et al., 2025): the folder of the Hub's CoRS pieces, CoSG archive and label files",
            "dataset_builder.corpora.codecfake_plus",
        ),
        PublishedCorpus(
            "xie",
            "Codecfake of Xie et al. (2024), CC BY-NC-ND: the folder of its Zenodo zips (train and dev joined) "
            "or of their extraction; imported for local use, never pushed",
            "dataset_builder.corpora.xie",
        ),
        PublishedCorpus(
            "cdd",
            "CodecDeepfakeDetection (CDD), Zenodo 17225924: its extracted folder (asvspoof5/, CoRS_*/, CoSG/)",
            "dataset_builder.corpora.cdd",
        ),
        PublishedCorpus(
            "asvspoof2019",
            "ASVspoof 2019 LA: the folder LA/ of LA.zip (protocols and FLAC)",
            "dataset_builder.corpora.asvspoof2019",
        ),
    )
}
#: The rows ``codecfake build --source KIND:LOCATION`` takes, and those ``codecfake import KIND`` takes.
SOURCE_KINDS = {name: kind for name, kind in CORPUS_KINDS.items() if isinstance(kind, SpeechCorpus)}
IMPORT_KINDS = {name: kind for name, kind in CORPUS_KINDS.items() if isinstance(kind, PublishedCorpus)}


def corpus_module(kind: str, kinds: Mapping[str, CorpusKind] = IMPORT_KINDS) -> ModuleType:
    """The module of corpus ``kind`` among ``kinds``: by default a published corpus (its ``Options``
    and ``Corpus``); :data:`SOURCE_KINDS` for a speech corpus (its ``prepare`` and ``MANIFEST``).

    Raises:
        DatasetBuildError: an unknown kind.
    """
    entry = kinds.get(kind)
    if entry is None:
        raise DatasetBuildError(f"unknown corpus kind {kind!r}; kinds: {', '.join(kinds)}")
    return importlib.import_module(entry.module)


def corpus_from_report(imported: Mapping[str, Any]) -> ImportedCorpus:
    """The corpus an import was made of, from its report (``build_report.json``, key ``imported``):
    its kind, source and options (fields a later version dropped are left out, new ones take their
    defaults). What the card and ``push`` read of an imported folder."""
    import dataclasses

    module = corpus_module(imported["kind"])
    recorded = imported.get("options") or {}
    known = {item.name for item in dataclasses.fields(module.Options)}
    options = module.Options(**{name: value for name, value in recorded.items() if name in known})
    return module.Corpus(imported["id"], options)


# --- Helpers for corpus modules -------------------------------------------------------------------


def label_of(value: object, bonafide: str, spoof: str, where: str, also_spoof: Sequence[str] = ()) -> int:
    """1 for the corpus's bona fide spelling ``bonafide``, 0 for its spoof spelling ``spoof`` (and for
    the further spoof spellings ``also_spoof`` its facts document, such as CodecFake+'s ``spoofs``); the
    string decides, never an integer (corpora disagree on the polarity).

    Raises:
        DatasetBuildError: any other value, naming it and ``where`` (file and row).
    """
    if value == bonafide:
        return 1
    if value == spoof or value in also_spoof:
        return 0
    others = "".join(f" or {spelling!r}" for spelling in also_spoof)
    raise DatasetBuildError(
        f"{where}: label {value!r} is neither {bonafide!r} (bona fide) nor {spoof!r}{others} (spoof); this "
        "corpus uses exactly these spellings, so the file is not the corpus or is damaged; nothing of it "
        "was imported"
    )


def audio_header(data: bytes) -> tuple[int, float]:
    """``(sampling_rate, seconds)`` read from the header of encoded audio (WAV, FLAC, ...), without
    decoding it.

    Raises:
        RuntimeError (soundfile's ``LibsndfileError``) or ValueError: not readable audio.
    """
    import soundfile

    info = soundfile.info(io.BytesIO(data))
    if info.samplerate <= 0:
        raise ValueError(f"sample rate {info.samplerate} in the header")
    return int(info.samplerate), info.frames / info.samplerate


def empty_rows() -> dict[str, list]:
    """A batch to fill: an empty list per column a corpus yields (:data:`ROW_COLUMNS` and ``split``,
    ``seconds``, ``error``)."""
    return {name: [] for name in (*ROW_COLUMNS, "split", "seconds", "error")}


def reserved_config(name: str) -> bool:
    """Whether config ``name`` is taken: a registered codec id (any case: ``e`` is E), ``bonafide``,
    ``default`` or a mixture name a corpus gets by default (``all``)."""
    from codecfake_hf.codecs.registry import CODECS
    from codecfake_hf.data.dataset_card import POOLED_CONFIGS
    from codecfake_hf.data.mixtures import ALL

    return name.lower() in {c.lower() for c in (*CODECS, *POOLED_CONFIGS, ALL)}


class ListedSpeakers:
    """The speaker split of a corpus read from one speaker list (the release, CodecFake+): the speakers
    of ``--validation-speakers`` / ``--test-speakers`` (options of
    :class:`~dataset_builder.source_options.SpeakerLists`) or, when neither is given, the corpus's own
    ``validation`` and ``test`` speakers; every other speaker is train."""

    def __init__(self, options: Any, validation: Sequence[str], test: Sequence[str]) -> None:
        listed = options.validation_speakers or options.test_speakers
        self.given = list(options.validation_speakers) + list(options.test_speakers)
        self.validation = list(options.validation_speakers if listed else validation)
        self.test = list(options.test_speakers if listed else test)
        self.is_default = self.validation == list(validation) and self.test == list(test)
        both = sorted(set(self.validation) & set(self.test))
        if both:
            raise DatasetBuildError(
                f"speaker(s) {', '.join(both)} listed for validation and test; list each once"
            )
        self._split_of = dict.fromkeys(self.validation, "validation") | dict.fromkeys(self.test, "test")

    def split(self, speaker: str) -> str:
        """The split of ``speaker``'s rows."""
        return self._split_of.get(speaker, "train")

    def fingerprint(self) -> dict:
        return {"validation": self.validation, "test": self.test}

    def rule(self) -> dict:
        """The report's split rule (:meth:`ImportedCorpus.split_rule`)."""
        return {
            "rule": "listed speakers",
            "validation_speakers": sorted(self.validation),
            "test_speakers": sorted(self.test),
        }

    def check(self, summary: ImportSummary, where: str) -> None:
        """Speakers given with the options must have rows (a partial copy of a corpus may lack the
        default validation and test speakers: those splits are then empty).

        Raises:
            DatasetBuildError: naming the speakers and the options.
        """
        seen = set().union(*summary.speakers.values())
        missing = sorted(set(self.given) - seen)
        if missing:
            raise DatasetBuildError(
                f"{where}: listed speaker(s) {', '.join(missing)} have no row; check --validation-speakers / "
                "--test-speakers (the shards are kept: a rerun with the right speakers rewrites them)"
            )


def append_row(rows: dict[str, list], data: bytes, name: str, where: str, **values: object) -> None:
    """Append to ``rows`` (:func:`empty_rows`) one row of audio ``data`` (kept as it is, ``name`` its
    file name) with its rate and length read from the header (or, when the header cannot be read, the
    ``error`` naming ``where``), and ``values``: ``label``, ``speaker_id``, ``utterance_id``, ``codec``,
    ``codec_name``, ``split`` (``text`` is "")."""
    try:
        rate, seconds = audio_header(data)
        error = None
    except (RuntimeError, ValueError) as problem:
        rate, seconds, error = 0, 0.0, f"{where}: audio unreadable ({' '.join(str(problem).split())})"
    rows["audio"].append({"bytes": data, "path": name})
    for column in ("label", "speaker_id", "utterance_id", "codec", "codec_name", "split"):
        rows[column].append(values[column])
    rows["text"].append("")
    rows["sampling_rate"].append(rate)
    rows["seconds"].append(seconds)
    rows["error"].append(error)


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``.

    Raises:
        DatasetBuildError: it cannot be read (one line naming it).
    """
    try:
        return path.read_bytes()
    except OSError as error:
        raise DatasetBuildError(
            f"{path}: cannot be read ({error.strerror}); nothing of it was imported"
        ) from None


def file_stamp(path: Path) -> list[int]:
    """``[size, modification time (ns)]`` of ``path``: what says a file changed, in a part's identity."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def option_pattern(option: str, text: str, groups: Sequence[str] = ()) -> re.Pattern:
    """The regular expression ``text`` of ``option``, which must have the named ``groups``.

    Raises:
        DatasetBuildError: not a regular expression, or a group missing (naming the option).
    """
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise DatasetBuildError(f"{option} {text!r}: not a regular expression ({error})") from None
    missing = [group for group in groups if group not in pattern.groupindex]
    if missing:
        raise DatasetBuildError(f"{option} {text!r}: has no group (?P<{missing[0]}>...)")
    return pattern
