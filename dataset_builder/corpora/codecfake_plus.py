"""CodecFake+ (Chen et al., arXiv 2501.08238; Hub dataset ``CodecFake/CodecFake_Plus_Dataset``, MIT):
``codecfake import codecfake-plus FOLDER``, FOLDER holding the Hub's files as downloaded::

    Codecfake_plus_CoRS.part0 ... partN   CoRS: pieces of one tar.xz (or Codecfake_plus_CoRS.tar.xz, joined)
    CoRS_labels.txt                       one line per CoRS file
    CodecFake_plus_CoSG.tar.xz            CoSG (CodecFake_Plus_CoSG.tar.xz, its name before the Hub renamed it)
    CoSG_labels.txt                       one line per CoSG file: Model ClipID QUA AUX DEC Label

**CoRS** (codec re-synthesis of VCTK 0.92, 31 codecs): one config per codec, named by the authors' codec
key verbatim (``Encodec_24b24k``, ``xocdec_hubert_general_audio``: their typos are the keys), the
bona fide VCTK files in ``bonafide``; the speaker split of CodecFake (validation p226, p229; test p227,
p228; train every other speaker) unless ``--validation-speakers`` / ``--test-speakers`` give another.
A CoRS label line is ``SPK UTT - AUX DEC VQ LABEL`` (``--cors-columns``: the authors' protocol layout;
the Hub file's own is not documented), ``UTT`` being the file's stem: ``p260_075`` bona fide,
``p260_075_Encodec_24b24k`` spoof (``<speaker>_<utterance>_<codec key>``).

**CoSG** (speech from 17 codec-based generation systems, taken from their demo pages): one test-only
config per system, named by its ``Model`` verbatim, holding the system's spoofs and the bona fide clips
of its demo page (the corpus has no speaker split for them). Member ``<...>/<Model>/<ClipID>.wav``.

The archives are read as streams (:mod:`~dataset_builder.corpora.archive_stream`): the pieces of CoRS
one after the other, never joined or extracted on disk, every member matched to its label line by its
path (``--cors-member-pattern``, ``--cosg-member-pattern``). Parts are runs of ``--part-size``
consecutive members; a process reads an archive once, from its start, and takes the members of its parts.

Labels from the strings: ``bonafide`` -> 1, ``spoof`` -> 0, and ``spoofs``, a typo the authors'
evaluation metadata has (``CoRS_ALL.txt``), -> 0; any other value stops the import with file and line.
Taxonomy: the authors' per-codec labels (:data:`CORS_CODECS`: AUX Trad / SEM / Disent, DEC TIME / FREQ,
VQ MVQ / SVQ / SQ) in the registry's words (:data:`SPELLINGS`); each spoof line's labels must agree with
them (``--taxonomy-source labels`` takes each codec's labels from the label file instead, the same on
every line of a codec). Everything the facts leave open is an option, and data that disagrees (another
number of fields, label, codec key, taxonomy value, a member no line lists, a listed file the archive
lacks) stops the import naming the file and the value.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.codecs.registry import TAXONOMY_VALUES
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from dataset_builder import DatasetBuildError
from dataset_builder.corpora import (
    CONFIG_NAME,
    UNKNOWN,
    ImportedCorpus,
    ImportSummary,
    InputPart,
    ListedSpeakers,
    Listing,
    OpenedPart,
    append_row,
    empty_rows,
    label_of,
    option_pattern,
    reserved_config,
)
from dataset_builder.corpora.archive_stream import ArchiveCursor
from dataset_builder.corpora.vctk import TEST_SPEAKERS, VALIDATION_SPEAKERS, VCTK_CITATION
from dataset_builder.source_options import SpeakerLists

HUB_ID = "CodecFake/CodecFake_Plus_Dataset"
CORS, COSG = "CoRS", "CoSG"
#: The Hub's file names (note the case: ``Codecfake`` in CoRS, ``CodecFake`` in CoSG).
CORS_PIECE_PREFIX = "Codecfake_plus_CoRS.part"
CORS_JOINED = "Codecfake_plus_CoRS.tar.xz"
COSG_ARCHIVES = ("CodecFake_plus_CoSG.tar.xz", "CodecFake_Plus_CoSG.tar.xz")
LABEL_FILES = {CORS: "CoRS_labels.txt", COSG: "CoSG_labels.txt"}
BONAFIDE_LABEL, SPOOF_LABEL = "bonafide", "spoof"
#: Spoof spellings the authors' files are documented to have besides ``spoof``.
SPOOF_TYPOS = ("spoofs",)
#: The authors' taxonomy spellings -> the registry's (:data:`~codecfake_hf.codecs.registry.TAXONOMY_VALUES`),
#: per taxonomy field.
SPELLINGS = {
    "auxiliary": {"Trad": "none", "SEM": "semantic distillation", "Disent": "disentanglement"},
    "decoder_domain": {"TIME": "time", "FREQ": "frequency"},
    "quantizer": {"MVQ": "MVQ", "SVQ": "SVQ", "SQ": "SQ"},
}
#: Label-file columns -> taxonomy field.
TAXONOMY_COLUMNS = {"AUX": "auxiliary", "DEC": "decoder_domain", "VQ": "quantizer", "QUA": "quantizer"}
DEFAULT_CORS_COLUMNS = "SPK UTT - AUX DEC VQ LABEL"
COSG_COLUMNS = ("Model", "ClipID", "QUA", "AUX", "DEC", "Label")
#: The 31 CoRS codec keys (the authors' spelling) -> (family, AUX, DEC, VQ), from the authors' metadata
#: (github ResponsibleGenAI/CodecFake-Source-Tracing, ``metadata/training/train_mult_learn.txt``); the
#: family is this project's name for the codec family (the registry's where it has one).
CORS_CODECS = {
    "DAC24": ("Descript Audio Codec", "Trad", "TIME", "MVQ"),
    "Encodec_24b24k": ("EnCodec", "Trad", "TIME", "MVQ"),
    "Encodec_6b24k": ("EnCodec", "Trad", "TIME", "MVQ"),
    "FACodec_encodec-decoder-v2_16k": ("FACodec", "Disent", "TIME", "MVQ"),
    "FunCodec_en-libritts-16k-gr1nq32ds320": ("FunCodec", "Trad", "FREQ", "MVQ"),
    "FunCodec_zh_en-general-16k-nq32ds320": ("FunCodec", "Trad", "TIME", "MVQ"),
    "HiFi_Codec_16k_320d_large_universal": ("AcademiCodec (HiFi-Codec)", "Trad", "TIME", "MVQ"),
    "SemantiCodec_0.35kbps_16k": ("SemantiCodec", "SEM", "FREQ", "MVQ"),
    "SemantiCodec_0.70kbps_16k": ("SemantiCodec", "SEM", "FREQ", "MVQ"),
    "SemantiCodec_1.40kbps_16k": ("SemantiCodec", "SEM", "FREQ", "MVQ"),
    "SpeechTokenizer_hubert_avg": ("SpeechTokenizer", "SEM", "TIME", "MVQ"),
    "audiodec_24k_320d": ("AudioDec", "Trad", "FREQ", "MVQ"),
    "bigcodec": ("BigCodec", "Trad", "TIME", "SVQ"),
    "hilcodec_speech": ("HILCodec", "Trad", "TIME", "MVQ"),
    "languagecodec": ("LanguageCodec", "Trad", "FREQ", "MVQ"),
    "mini": ("mini", "SEM", "TIME", "MVQ"),
    "snac_24khz": ("SNAC", "Trad", "TIME", "MVQ"),
    "snac_44khz": ("SNAC", "Trad", "TIME", "MVQ"),
    "socodec_16384x4_120ms_16khz_chinese": ("SoCodec", "Disent", "FREQ", "MVQ"),
    "spectralcodecs": ("Spectral Codec", "Trad", "FREQ", "SQ"),
    "sqcodec50dim9": ("SQ-Codec", "Trad", "TIME", "SQ"),
    "ticodec_1g1r": ("TiCodec", "Disent", "TIME", "SVQ"),
    "ticodec_1g2r": ("TiCodec", "Disent", "TIME", "MVQ"),
    "ticodec_1g4r": ("TiCodec", "Disent", "TIME", "MVQ"),
    "vocos_encodec_12": ("Vocos", "Trad", "FREQ", "MVQ"),
    "vocos_encodec_6": ("Vocos", "Trad", "FREQ", "MVQ"),
    "wavtokenizer_medium_320_24k_4096": ("WavTokenizer", "Trad", "FREQ", "SVQ"),
    "wavtokenizer_small_320_24k_4096": ("WavTokenizer", "Trad", "FREQ", "SVQ"),
    "xcodec_hubert_libirispeech": ("X-codec", "SEM", "TIME", "MVQ"),
    "xocdec_hubert_general_audio": ("X-codec", "SEM", "TIME", "MVQ"),
    "llm_codec": ("LLM-Codec", "SEM", "TIME", "MVQ"),
}
#: Bona fide rows per split in the authors' split (their balanced training lists).
PUBLISHED_BONAFIDE = {"train": 42_965, "validation": 735, "test": 755}
_CORS_STEM = re.compile(r"(?P<utterance_id>(?P<speaker>[^_/]+)_\d+)(?:_(?P<codec_key>.+))?")
CODECFAKE_PLUS_CITATION = """@article{chen2025codecfakeplus,
  title = {{CodecFake+}: A Large-Scale Neural Audio Codec-Based Deepfake Speech Dataset},
  author = {Chen, Xuanjun and Du, Jiawei and Wu, Haibin and Zhang, Lin and Lin, I-Ming and Chiu, I-Hsiang and
            Ren, Wenze and Tseng, Yuan and Tsao, Yu and Jang, Jyh-Shing Roger and Lee, Hung-yi},
  journal = {arXiv preprint arXiv:2501.08238},
  year = {2025}
}"""


@dataclass(frozen=True)
class Options(SpeakerLists):
    """How to read CodecFake+ (``codecfake import codecfake-plus --help``)."""

    sets: list[str] = field(
        default_factory=lambda: [CORS, COSG],
        metadata={"help": "which parts of the corpus to import: CoRS (the 31 codecs), CoSG (the 17 systems)"},
    )
    cors_columns: str = field(
        default=DEFAULT_CORS_COLUMNS,
        metadata={
            "help": "the columns of a CoRS_labels.txt line, space-separated: UTT (the file's stem) and LABEL, "
            "optionally SPK and the taxonomy AUX DEC VQ, '-' for a column not read. The default is the "
            "authors' protocol layout; the Hub file's is not documented"
        },
    )
    taxonomy_source: str = field(
        default="table",
        metadata={
            "help": "table: each CoRS codec's taxonomy from the authors' metadata (built in), and every spoof "
            "line's labels must agree with it; labels: from the label file (the same on every line of a "
            "codec; codec keys the table lacks are then accepted)"
        },
    )
    taxonomy_spellings: list[str] = field(
        default_factory=list,
        metadata={
            "help": "SPELLING=LABEL: read a taxonomy value the label files spell otherwise (Semantic=semantic "
            "distillation); LABEL is one of the registry's values or unknown. Trad, SEM, Disent, TIME, FREQ, "
            "MVQ, SVQ, SQ are known"
        },
    )
    cors_member_pattern: str = field(
        default=r"(?:.*/)?(?P<name>[^/]+)\.wav",
        metadata={
            "help": "regular expression every CoRS archive member (a file) must match in full; its group name "
            "is the UTT of its label line. The default takes the file's stem in any folder"
        },
    )
    cosg_member_pattern: str = field(
        default=r"(?:.*/)?(?P<model>[^/]+)/(?P<clip_id>[^/]+)\.wav",
        metadata={
            "help": "the same for CoSG members, groups model and clip_id (the Model and ClipID of its line); "
            "the default reads <...>/<Model>/<ClipID>.wav"
        },
    )
    ignore_members: str | None = field(
        default=None,
        metadata={
            "help": "regular expression: archive members whose path matches it in full are passed over "
            "(by default every file of an archive must have a label line)"
        },
    )
    part_size: int = field(
        default=20000,
        metadata={"help": "members per part: the unit of resume and of the processes' shares"},
    )


@dataclass(frozen=True)
class _Row:
    speaker_id: str
    utterance_id: str
    config: str
    codec_name: str
    label: int
    split: str


class Corpus(ImportedCorpus):
    """CodecFake+ (module docstring)."""

    kind = "codecfake-plus"
    title = "CodecFake+ (Chen et al., 2025)"
    description = (
        "CodecFake+: VCTK speech re-synthesised by 31 neural audio codecs (CoRS, one config per codec, with "
        "the authors' taxonomy of quantiser, auxiliary objective and decoder domain) and speech generated "
        "by 17 codec-based speech generation systems taken from their demo pages (CoSG, test only)."
    )
    license = "mit"
    license_name = "MIT (Hub card of CodecFake/CodecFake_Plus_Dataset)"
    license_link = f"https://huggingface.co/datasets/{HUB_ID}"
    attribution = (
        f"CodecFake+ by Xuanjun Chen, Jiawei Du, Haibin Wu, Lin Zhang et al., published as `{HUB_ID}` under "
        "the MIT licence. Its CoRS audio is the CSTR VCTK corpus (Yamagishi, Veaux, MacDonald; CC BY 4.0) "
        "and codec re-syntheses of it: credit VCTK too. **Its CoSG audio comes from the demo pages of "
        "third-party speech generation systems, whose terms are not stated**: publishing a converted copy "
        "of the CoSG configs is a legal grey zone; import it locally, or import `--sets CoRS` before you "
        "publish. Changes made by this import: the archives' files regrouped into one config per codec or "
        "system, the labels became a ClassLabel (bona fide = 1), and the columns speaker_id, utterance_id, "
        "codec, the taxonomy (in this project's words) and sampling_rate were added; the audio bytes are "
        "unchanged."
    )
    citation = f"{CODECFAKE_PLUS_CITATION}\n{VCTK_CITATION}"

    def __init__(self, source: str, options: Options) -> None:
        super().__init__(source, options)
        self.speakers = ListedSpeakers(options, VALIDATION_SPEAKERS, TEST_SPEAKERS)
        unknown = sorted(set(options.sets) - {CORS, COSG})
        if unknown or not options.sets:
            raise DatasetBuildError(f"--sets {' '.join(options.sets)}: choose from {CORS} and {COSG}")
        if options.taxonomy_source not in ("table", "labels"):
            raise DatasetBuildError(f"--taxonomy-source {options.taxonomy_source!r}: table or labels")
        if options.part_size < 1:
            raise DatasetBuildError(f"--part-size {options.part_size}: must be at least 1")
        self.columns = options.cors_columns.split()
        names = [name for name in self.columns if name != "-"]
        allowed = {"SPK", "UTT", "LABEL", "AUX", "DEC", "VQ"}
        if not {"UTT", "LABEL"} <= set(names) or not set(names) <= allowed or len(set(names)) != len(names):
            raise DatasetBuildError(
                f"--cors-columns {options.cors_columns!r}: name UTT and LABEL once each, optionally SPK, AUX, "
                "DEC, VQ, and '-' for a column not read"
            )
        self.spellings = {name: dict(values) for name, values in SPELLINGS.items()}
        for item in options.taxonomy_spellings:
            spelling, equals, label = item.partition("=")
            fields = [f for f, values in TAXONOMY_VALUES.items() if label in (*values, UNKNOWN)]
            if not equals or not spelling or not fields:
                raise DatasetBuildError(
                    f"--taxonomy-spellings {item!r}: write SPELLING=LABEL, LABEL one of "
                    f"{', '.join(v for values in TAXONOMY_VALUES.values() for v in values)} or {UNKNOWN}"
                )
            for name in TAXONOMY_VALUES if label == UNKNOWN else fields:
                self.spellings[name][spelling] = label
        self.patterns = {
            CORS: option_pattern("--cors-member-pattern", options.cors_member_pattern, ["name"]),
            COSG: option_pattern("--cosg-member-pattern", options.cosg_member_pattern, ["model", "clip_id"]),
        }
        self.ignore = (
            option_pattern("--ignore-members", options.ignore_members, []) if options.ignore_members else None
        )
        self._labels: dict[str, tuple[dict, dict]] = {}
        self._cursors: dict[str, ArchiveCursor] = {}

    def fingerprint(self) -> dict:
        options = self.options
        return {
            "cors_columns": self.columns,
            "taxonomy_source": options.taxonomy_source,
            "taxonomy_spellings": list(options.taxonomy_spellings),
            "patterns": [options.cors_member_pattern, options.cosg_member_pattern, options.ignore_members],
            "part_size": options.part_size,
            **self.speakers.fingerprint(),
        }

    def split_rule(self) -> dict:
        return self.speakers.rule() | (
            {"test_only": self._cosg_configs()} if COSG in self.options.sets else {}
        )

    def _cosg_configs(self) -> list[str]:
        return sorted(self._label_table(COSG)[1]) if (self._root() / LABEL_FILES[COSG]).is_file() else []

    def taxonomy(self, config: str) -> dict[str, str]:
        if self.options.taxonomy_source == "table" and config in CORS_CODECS:
            family, *values = CORS_CODECS[config]
            labels = dict(zip(("auxiliary", "decoder_domain", "quantizer"), values))
            return {"family": family} | {name: SPELLINGS[name][value] for name, value in labels.items()}
        for chosen in [s for s in (CORS, COSG) if s in self.options.sets]:
            taxonomy = self._label_table(chosen)[1]
            if config in taxonomy:
                return taxonomy[config]
        raise DatasetBuildError(f"config {config}: no taxonomy (not in the label files)")

    def reference_counts(self) -> dict[str, int]:
        return dict(PUBLISHED_BONAFIDE) if self.speakers.is_default and CORS in self.options.sets else {}

    def notes(self) -> list[str]:
        options = self.options
        notes = [
            f"Read: {', '.join(options.sets)}; the archives as streams (never extracted), every member matched "
            f"to its label line (CoRS `{options.cors_member_pattern}`, CoSG `{options.cosg_member_pattern}`"
            + (f"; members matching `{options.ignore_members}` passed over" if options.ignore_members else "")
            + ").",
            "Labels from the strings: `bonafide` -> 1, `spoof` -> 0, and `spoofs` -> 0: that typo is in the "
            "authors' evaluation metadata (`CoRS_ALL.txt`), so it is read as spoof; any other value stops the "
            "import.",
        ]
        if CORS in options.sets:
            source = (
                "the authors' per-codec metadata (every spoof line agreed with it)"
                if options.taxonomy_source == "table"
                else "the label file (`--taxonomy-source labels`; the same on every line of a codec)"
            )
            notes += [
                f"CoRS_labels.txt read as `{' '.join(self.columns)}` (`--cors-columns`; the authors' "
                "protocol layout, the Hub file's own is not documented).",
                f"CoRS taxonomy from {source}, in this project's words (Trad -> none, SEM -> semantic "
                "distillation, Disent -> disentanglement, TIME / FREQ -> time / frequency).",
            ]
        if COSG in options.sets:
            notes.append(
                "CoSG systems are test-only configs holding their own bona fide clips (the systems' demo-page "
                "references): `load_dataset(DIR, SYSTEM)` gives them without the VCTK bona fide rows."
            )
        return notes

    def check(self, summary: ImportSummary) -> None:
        self.speakers.check(summary, self.source)
        shared = summary.shared_speakers()
        if shared:
            raise DatasetBuildError(
                f"{self.source}: speaker(s) {', '.join(list(shared)[:10])} are in more than one split; the "
                "speaker lists cannot make that, so a file names another speaker than its label line"
            )

    # --- the files ----------------------------------------------------------------------------

    def _root(self) -> Path:
        return Path(self.source).expanduser()

    def _archive(self, chosen: str) -> list[Path]:
        """The file(s) of the archive of ``chosen``, in stream order."""
        root = self._root()
        if chosen == COSG:
            for name in COSG_ARCHIVES:
                if (root / name).is_file():
                    return [root / name]
            raise DatasetBuildError(
                f"{root}: no {COSG_ARCHIVES[0]}; download it from {HUB_ID}, or import --sets {CORS}"
            )
        pieces = {}
        for path in root.glob(f"{CORS_PIECE_PREFIX}*"):
            suffix = path.name[len(CORS_PIECE_PREFIX) :]
            if not suffix.isdigit():
                raise DatasetBuildError(
                    f"{path}: not a piece of the CoRS archive ({CORS_PIECE_PREFIX}<number>)"
                )
            pieces[int(suffix)] = path
        if pieces:
            missing = sorted(set(range(max(pieces) + 1)) - set(pieces))
            if missing:
                raise DatasetBuildError(
                    f"{root}: {CORS_PIECE_PREFIX}{missing[0]} is missing (pieces 0 to {max(pieces)} make the "
                    "archive); download every piece"
                )
            return [pieces[number] for number in sorted(pieces)]
        if (root / CORS_JOINED).is_file():
            return [root / CORS_JOINED]
        raise DatasetBuildError(
            f"{root}: no {CORS_PIECE_PREFIX}0 ... (nor {CORS_JOINED}); download them from {HUB_ID}, or "
            f"import --sets {COSG}"
        )

    def _label_table(self, chosen: str) -> tuple[dict, dict]:
        """``({member key: _Row}, {config: taxonomy})`` of the label file of ``chosen``, read once."""
        if chosen not in self._labels:
            path = self._root() / LABEL_FILES[chosen]
            if not path.is_file():
                raise DatasetBuildError(f"{path}: missing; download it from {HUB_ID}")
            read = self._read_cors if chosen == CORS else self._read_cosg
            self._labels[chosen] = read(path)
        return self._labels[chosen]

    def _taxonomy_of(self, values: dict[str, str], where: str) -> dict[str, str]:
        """The registry's labels of a line's taxonomy columns (``{column: value}``)."""
        labels = {}
        for column, value in values.items():
            name = TAXONOMY_COLUMNS[column]
            if value not in self.spellings[name]:
                raise DatasetBuildError(
                    f"{where}: {column} {value!r} is no known spelling ({', '.join(self.spellings[name])}); "
                    "add one with --taxonomy-spellings SPELLING=LABEL"
                )
            labels[name] = self.spellings[name][value]
        return labels

    def _read_cors(self, path: Path) -> tuple[dict, dict]:
        rows: dict[str, _Row] = {}
        lines: dict[str, int] = {}
        taxonomy: dict[str, dict[str, str]] = {}
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            where = f"{path}:{number}"
            fields = text.split()
            if len(fields) != len(self.columns):
                raise DatasetBuildError(
                    f"{where}: {len(fields)} fields in {text!r}; --cors-columns names {len(self.columns)} "
                    f"({' '.join(self.columns)})"
                )
            line = {name: value for name, value in zip(self.columns, fields) if name != "-"}
            label = label_of(line["LABEL"], BONAFIDE_LABEL, SPOOF_LABEL, where, SPOOF_TYPOS)
            stem = _CORS_STEM.fullmatch(line["UTT"])
            if stem is None or "SPK" in line and stem["speaker"] != line["SPK"]:
                raise DatasetBuildError(
                    f"{where}: UTT {line['UTT']!r} is not <speaker>_<utterance>[_<codec key>]"
                    + (f" of speaker {line['SPK']!r}" if "SPK" in line else "")
                )
            key = stem["codec_key"]
            if label and key is not None or not label and key is None:
                raise DatasetBuildError(
                    f"{where}: label {line['LABEL']!r} but UTT {line['UTT']!r} "
                    + ("names a codec" if key else "names no codec")
                    + "; bona fide files are <speaker>_<utterance>, spoofs <speaker>_<utterance>_<codec key>"
                )
            if line["UTT"] in lines:
                raise DatasetBuildError(f"{where}: {line['UTT']} is listed again (line {lines[line['UTT']]})")
            lines[line["UTT"]] = number
            if key is not None:
                self._check_codec(key, line, where, taxonomy)
            speaker = stem["speaker"]
            config = BONAFIDE_CONFIG if label else key
            rows[line["UTT"]] = _Row(
                speaker, stem["utterance_id"], config, BONAFIDE_LABEL if label else key, label,
                self.speakers.split(speaker),
            )  # fmt: skip
        if not rows:
            raise DatasetBuildError(f"{path}: no label lines")
        return rows, taxonomy

    def _check_codec(self, key: str, line: dict[str, str], where: str, taxonomy: dict) -> None:
        """Check a spoof line's codec key and taxonomy; keep the codec's labels in ``taxonomy``."""
        by_table = self.options.taxonomy_source == "table"
        if by_table and key not in CORS_CODECS:
            raise DatasetBuildError(
                f"{where}: codec key {key!r} is none of the 31 CoRS codecs; pass --taxonomy-source labels to "
                "import codecs the authors' metadata does not list"
            )
        if not CONFIG_NAME.fullmatch(key) or reserved_config(key):
            raise DatasetBuildError(f"{where}: codec key {key!r} cannot name a config")
        read = self._taxonomy_of({c: line[c] for c in ("AUX", "DEC", "VQ") if c in line}, where)
        expected = self.taxonomy(key) if by_table else taxonomy.get(key)
        if expected is None:
            taxonomy[key] = {"family": key} | {name: UNKNOWN for name in SPELLINGS} | read
            return
        differs = {name: value for name, value in read.items() if expected[name] != value}
        if differs:
            name, value = next(iter(differs.items()))
            source = (
                "the authors' metadata (--taxonomy-source labels reads the file's)"
                if by_table
                else ("its earlier lines")
            )
            raise DatasetBuildError(
                f"{where}: codec {key} has {name} {value!r} here, {expected[name]!r} in {source}"
            )
        taxonomy.setdefault(key, expected)

    def _read_cosg(self, path: Path) -> tuple[dict, dict]:
        rows: dict[tuple[str, str], _Row] = {}
        lines: dict[tuple[str, str], int] = {}
        taxonomy: dict[str, dict[str, str]] = {}
        cors_keys = {key.lower() for key in CORS_CODECS}
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            where = f"{path}:{number}"
            fields = text.split()
            if len(fields) != len(COSG_COLUMNS):
                raise DatasetBuildError(
                    f"{where}: {len(fields)} fields in {text!r}; a CoSG label line has {len(COSG_COLUMNS)} "
                    f"({' '.join(COSG_COLUMNS)})"
                )
            model, clip_id, quantizer, auxiliary, decoder, value = fields
            label = label_of(value, BONAFIDE_LABEL, SPOOF_LABEL, where, SPOOF_TYPOS)
            if not CONFIG_NAME.fullmatch(model) or reserved_config(model) or model.lower() in cors_keys:
                raise DatasetBuildError(f"{where}: system {model!r} cannot name a config of its own")
            if (model, clip_id) in lines:
                raise DatasetBuildError(
                    f"{where}: {model} {clip_id} is listed again (line {lines[model, clip_id]})"
                )
            lines[model, clip_id] = number
            if not label:  # a bona fide clip's taxonomy columns describe no codec: not read
                read = self._taxonomy_of({"QUA": quantizer, "AUX": auxiliary, "DEC": decoder}, where)
                labels = {"family": model} | read
                if taxonomy.setdefault(model, labels) != labels:
                    raise DatasetBuildError(
                        f"{where}: system {model} has the taxonomy {quantizer} {auxiliary} {decoder} here and "
                        "another on its earlier lines"
                    )
            rows[model, clip_id] = _Row("", clip_id, model, model, label, "test")
        missing = sorted({row.config for row in rows.values()} - set(taxonomy))
        if missing:
            raise DatasetBuildError(f"{path}: system {missing[0]} has no spoof line")
        return rows, taxonomy

    # --- listing and reading ------------------------------------------------------------------

    def list_parts(self) -> Listing:
        from codecfake_hf.files.hub_io import sha256_file

        root = self._root()
        if not root.is_dir():
            raise DatasetBuildError(
                f"{root}: no such folder; pass the folder holding the files of {HUB_ID} ({CORS_PIECE_PREFIX}0 "
                f"..., {LABEL_FILES[CORS]}, {COSG_ARCHIVES[0]}, {LABEL_FILES[COSG]})"
            )
        parts, labels = [], {}
        for chosen in self.options.sets:
            archive = self._archive(chosen)
            rows = self._label_table(chosen)[0]
            labels[LABEL_FILES[chosen]] = sha256_file(root / LABEL_FILES[chosen])
            identity = {
                "archive": [[path.name, path.stat().st_size, path.stat().st_mtime_ns] for path in archive],
                "labels": labels[LABEL_FILES[chosen]],
            }
            size = self.options.part_size
            count = -(-len(rows) // size)
            for index in range(count):
                start, stop = index * size, min(len(rows), (index + 1) * size)
                parts.append(
                    InputPart(
                        f"{archive[0].name.split('.')[0]} members {start + 1}-{stop} of {len(rows)}",
                        index,
                        count,
                        identity | {"start": start, "stop": stop},
                        {"set": chosen, "start": start, "stop": stop, "total": len(rows)},
                        stop - start,
                    )
                )
        return Listing(
            parts, {"id": str(root.resolve()), "hub_id": HUB_ID, "revision": None, "protocols": labels}
        )

    @contextlib.contextmanager
    def open_part(self, part: InputPart, scratch: Path) -> Iterator[OpenedPart]:
        opened = OpenedPart(iter(()))
        opened.batches = self._batches(part, opened)
        try:
            yield opened
        except BaseException:
            cursor = self._cursors.pop(part.location["set"], None)
            if cursor is not None:
                cursor.close()
            raise

    def _cursor(self, chosen: str, start: int) -> ArchiveCursor:
        """The archive's stream at a member position <= ``start`` (this process's, or a new one)."""
        cursor = self._cursors.get(chosen)
        if cursor is None or cursor.position > start:
            if cursor is not None:
                cursor.close()
            cursor = ArchiveCursor(self._archive(chosen), " + ".join(p.name for p in self._archive(chosen)))
            self._cursors[chosen] = cursor
        return cursor

    def _batches(self, part: InputPart, opened: OpenedPart) -> Iterator[dict[str, list]]:
        from dataset_builder.shard_files import ROW_GROUP_SIZE

        chosen, start, stop = part.location["set"], part.location["start"], part.location["stop"]
        rows, _ = self._label_table(chosen)
        cursor = self._cursor(chosen, start)
        batch = empty_rows()
        while cursor.position < stop:
            member = cursor.next_file()
            if member is None:
                raise DatasetBuildError(
                    f"{cursor.name}: ended after {cursor.position} of the {part.location['total']} files "
                    f"{LABEL_FILES[chosen]} lists; the archive is incomplete (download it again) or the "
                    "label file lists files it does not hold"
                )
            row = self._row_of(chosen, member.name, rows, cursor.name)
            if row is None:
                continue
            if cursor.position >= start:
                append_row(
                    batch, cursor.read(member), member.name.rsplit("/", 1)[-1], f"{cursor.name}: {member.name}",
                    label=row.label, speaker_id=row.speaker_id, utterance_id=row.utterance_id, codec=row.config,
                    codec_name=row.codec_name, split=row.split,
                )  # fmt: skip
                if len(batch["label"]) == ROW_GROUP_SIZE:
                    yield batch
                    batch = empty_rows()
            cursor.advance()
        if batch["label"]:
            yield batch
        if stop == part.location["total"]:  # the archive's last part: nothing may follow; hash it whole
            while (member := cursor.next_file()) is not None:
                if self._row_of(chosen, member.name, rows, cursor.name) is not None:
                    raise DatasetBuildError(
                        f"{cursor.name}: member {member.name} after the {stop} files {LABEL_FILES[chosen]} "
                        "lists, all already read: a file is in the archive twice"
                    )
            opened.input = cursor.finish()
            del self._cursors[chosen]

    def _row_of(self, chosen: str, name: str, rows: dict, archive: str) -> _Row | None:
        """The label row of archive member ``name``; None for a member passed over (--ignore-members)."""
        if self.ignore is not None and self.ignore.fullmatch(name):
            return None
        match = self.patterns[chosen].fullmatch(name)
        option = "--cors-member-pattern" if chosen == CORS else "--cosg-member-pattern"
        if match is None:
            raise DatasetBuildError(
                f"{archive}: member {name!r} does not match {option} {self.patterns[chosen].pattern!r}; pass a "
                "pattern that fits, or --ignore-members for files that are no audio of the corpus"
            )
        key = match["name"] if chosen == CORS else (match["model"], match["clip_id"])
        if key not in rows:
            raise DatasetBuildError(
                f"{archive}: member {name!r} has no line in {LABEL_FILES[chosen]} (looked up as {key!r}); "
                f"fix {option}, or pass --ignore-members for files the corpus does not label"
            )
        return rows[key]
