"""CodecDeepfakeDetection (CDD), Zenodo record 17225924: ``codecfake import cdd FOLDER``, FOLDER the corpus
extracted::

    asvspoof5/flac_T|flac_D|flac_E/*.flac            bona fide (ASVspoof 5 train / dev / eval), 16 kHz
    CoRS_train|CoRS_dev/{DescriptAudioCodec,EnCodecVocos,Mimi}/*.wav       codec re-syntheses
    CoRS_test/{DescriptAudioCodec,EnCodecVocos,Mimi,XCodec2}/*.wav          XCodec2: unseen, test only
    CoSG/...                                          zero-shot TTS spoofs (one folder per system)

Labels come from the folder (``asvspoof5/`` bona fide, ``CoRS_*`` and ``CoSG`` spoof), splits too:
T / ``CoRS_train`` -> train, D / ``CoRS_dev`` -> validation, E / ``CoRS_test`` -> test. One config per
codec (:data:`CDD_CODECS`: ``DescriptAudioCodec``, ``EnCodecVocos``; ``Mimi`` and ``XCodec2`` are the
registry's ``mimi`` and ``xcodec2``, whose names they would otherwise clash with) and one per CoSG system.
The CoSG folder's inner layout is not documented: ``--cosg-pattern`` reads ``<system>/[<split>/]...<file>.wav``
(a file without a split folder is test). Speakers: from the ASVspoof 5 protocols when given
(``--asvspoof5-protocols``: lines ``SPEAKER FILE ...``, a file's stem looked up; CoRS files are taken to
keep their source utterance's stem), else none (``speaker_id`` empty: the split is ASVspoof 5's, described
as speaker-disjoint, not checked). Every other file, folder or codec is refused, naming it.

The licence of the record was not read: the card says ``unknown`` and ``codecfake push`` refuses the folder
until ``--license`` states it (its bona fide audio is ASVspoof 5 data, under ASVspoof 5's own licence).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.data.licenses import hub_license_id
from dataset_builder import DatasetBuildError
from dataset_builder.corpora import (
    CONFIG_NAME,
    ImportedCorpus,
    ImportSummary,
    InputPart,
    Listing,
    OpenedPart,
    append_row,
    empty_rows,
    file_stamp,
    option_pattern,
    read_bytes,
    reserved_config,
)

RECORD = "https://zenodo.org/records/17225924"
BONAFIDE_FOLDERS = {"train": "asvspoof5/flac_T", "validation": "asvspoof5/flac_D", "test": "asvspoof5/flac_E"}
CORS_FOLDERS = {"train": "CoRS_train", "validation": "CoRS_dev", "test": "CoRS_test"}
COSG_FOLDER = "CoSG"
#: CDD's codec folders -> (config, family, quantizer, auxiliary, decoder_domain); the taxonomy is the codecs'
#: own (their papers; the registry's for mimi and xcodec2), no CDD document gives one.
CDD_CODECS = {
    "DescriptAudioCodec": ("DescriptAudioCodec", "Descript Audio Codec", "MVQ", "none", "time"),
    "EnCodecVocos": ("EnCodecVocos", "EnCodec + Vocos decoder", "MVQ", "none", "frequency"),
    "Mimi": ("mimi", None, None, None, None),
    "XCodec2": ("xcodec2", None, None, None, None),
}
#: Codecs of the test part only (the unseen codec).
TEST_ONLY_CODECS = ("XCodec2",)
#: How a split may be named in a CoSG path.
COSG_SPLITS = {
    "train": "train",
    "dev": "validation",
    "test": "test",
    "T": "train",
    "D": "validation",
    "E": "test",
}
DEFAULT_COSG_PATTERN = (
    r"(?P<system>[^/]+)/(?:(?P<split>train|dev|test|T|D|E)/)?(?:.*/)?(?P<utterance_id>[^/]+)\.(?:wav|flac)"
)
UNKNOWN_LICENSE = (
    "CDD's licence is not known to codecfake-hf (its Zenodo record was not read here) and its bona fide audio "
    "is ASVspoof 5 data under ASVspoof 5's own licence; read the record, then import again with --license "
    "(e.g. --license cc-by-4.0) to state it"
)


@dataclass(frozen=True)
class Options:
    """How to read CDD (``codecfake import cdd --help``)."""

    asvspoof5_protocols: list[str] = field(
        default_factory=list,
        metadata={
            "help": "ASVspoof 5 protocol files (ASVspoof5.train.tsv, ASVspoof5.dev.track_1.tsv, "
            "ASVspoof5.eval.track_1.tsv; or the folder holding them): lines SPEAKER FILE ..., which give "
            "each file's speaker. Without them rows have no speaker_id and the splits are not checked"
        },
    )
    cosg_pattern: str = field(
        default=DEFAULT_COSG_PATTERN,
        metadata={
            "help": "regular expression every file under CoSG/ must match in full (its path below CoSG/): "
            "group system names the config, optional group split (train, dev, test, T, D, E; none: test), "
            "utterance_id, optional speaker_id. CDD does not document this layout"
        },
    )
    license: str | None = field(
        default=None,
        metadata={
            "help": "the licence CDD's record states (a Hub id such as cc-by-4.0, or its name): the card "
            "carries it and push is allowed; without it the card says unknown and push refuses"
        },
    )
    shard_size: int = field(default=1000, metadata={"help": "rows per parquet file of a config and split"})


class Corpus(ImportedCorpus):
    """CDD (module docstring)."""

    kind = "cdd"
    title = "CodecDeepfakeDetection (CDD)"
    description = (
        "CDD: ASVspoof 5 bona fide speech, its codec re-syntheses by DAC, EnCodec with a Vocos decoder, Mimi "
        "and (test only, unseen) XCodec2, and zero-shot TTS spoofs (CoSG), all at 16 kHz, in ASVspoof 5's "
        "train / development / evaluation parts."
    )
    license_link = RECORD
    attribution = (
        f"CodecDeepfakeDetection (CDD), Zenodo record {RECORD}; its bona fide audio is from ASVspoof 5 (Wang "
        "et al.), under ASVspoof 5's licence. Changes made by this import: one config per codec and CoSG "
        "system, the splits renamed (dev -> validation, eval -> test), labels from the folders as a "
        "ClassLabel (bona fide = 1), and the columns codec, the taxonomy and sampling_rate added; the audio "
        "bytes are unchanged."
    )
    citation = f"% CDD: cite the publication named on {RECORD}\n" + (
        "@inproceedings{wang2024asvspoof5,\n"
        "  title = {{ASVspoof} 5: Crowdsourced speech data, deepfakes, and adversarial attacks at scale},\n"
        "  author = {Wang, Xin and Delgado, H{\\'e}ctor and Tak, Hemlata and others},\n"
        "  booktitle = {Proc. ASVspoof 2024 Workshop},\n"
        "  year = {2024}\n}"
    )

    def __init__(self, source: str, options: Options) -> None:
        super().__init__(source, options)
        if options.shard_size < 1:
            raise DatasetBuildError(f"--shard-size {options.shard_size}: must be at least 1")
        self.pattern = option_pattern("--cosg-pattern", options.cosg_pattern, ("system", "utterance_id"))
        if options.license:
            self.license = hub_license_id(options.license)
            self.license_name = options.license
            self.publish_refusal = None
        else:
            self.license, self.license_name, self.publish_refusal = "unknown", "unknown", UNKNOWN_LICENSE

    def fingerprint(self) -> dict:
        return {
            "protocols": [str(Path(p).expanduser().resolve()) for p in self.options.asvspoof5_protocols],
            "cosg_pattern": self.options.cosg_pattern,
            "shard_size": self.options.shard_size,
        }

    def split_rule(self) -> dict:
        return {"rule": "source splits"}

    def taxonomy(self, config: str) -> dict[str, str]:
        from dataset_builder.shard_files import taxonomy_values

        for codec_config, family, *labels in CDD_CODECS.values():
            if config == codec_config:
                if family is None:
                    return taxonomy_values(config)
                return dict(zip(("family", "quantizer", "auxiliary", "decoder_domain"), (family, *labels)))
        return {"family": config, "quantizer": "n/a", "auxiliary": "n/a", "decoder_domain": "n/a"}

    def notes(self) -> list[str]:
        speakers = (
            "from the ASVspoof 5 protocols given (`--asvspoof5-protocols`); the splits share no speaker"
            if self.options.asvspoof5_protocols
            else "not known (no `--asvspoof5-protocols`): `speaker_id` is empty, and the split is ASVspoof 5's, "
            "described as speaker-disjoint, not checked here"
        )
        return [
            "Labels and splits from the folders: `asvspoof5/flac_T|D|E` bona fide, `CoRS_train|dev|test/<codec>` "
            "and `CoSG/` spoof; T / train -> train, D / dev -> validation, E / test -> test.",
            f"Speakers: {speakers}.",
            f"CoSG files read with `--cosg-pattern` `{self.options.cosg_pattern}` (CDD does not document "
            "that layout); a file without a split folder is test.",
            "Codec taxonomy from the codecs' own papers (the registry's for mimi and xcodec2); no CDD document "
            "gives one. CDD's Mimi and XCodec2 are the configs `mimi` and `xcodec2`.",
            f"Licence: {self.license_name}"
            + (" (stated with `--license`)." if self.options.license else f"; {UNKNOWN_LICENSE}."),
        ]

    def check(self, summary: ImportSummary) -> None:
        shared = summary.shared_speakers()
        if shared:
            raise DatasetBuildError(
                f"{self.source}: speaker(s) {', '.join(list(shared)[:10])} are in more than one split by the "
                "ASVspoof 5 protocols given; ASVspoof 5's splits are speaker-disjoint, so the protocols are "
                "not those of these files"
            )

    # --- listing ------------------------------------------------------------------------------

    def _speakers(self) -> dict[str, str]:
        """``{file stem: speaker}`` of the protocols given (empty without them)."""
        speakers: dict[str, str] = {}
        for given in self.options.asvspoof5_protocols:
            path = Path(given).expanduser()
            files = sorted(path.glob("ASVspoof5.*.tsv")) if path.is_dir() else [path]
            if not files or not all(file.is_file() for file in files):
                raise DatasetBuildError(
                    f"--asvspoof5-protocols {given}: no such file (nor a folder of ASVspoof5.*.tsv)"
                )
            for file in files:
                for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
                    fields = text.split()
                    if not fields:
                        continue
                    if len(fields) < 2:
                        raise DatasetBuildError(f"{file}:{number}: {text!r} has no SPEAKER FILE fields")
                    speaker, stem = fields[0], Path(fields[1]).stem
                    if speakers.setdefault(stem, speaker) != speaker:
                        raise DatasetBuildError(
                            f"{file}:{number}: {stem} is speaker {speaker} here, {speakers[stem]} in an earlier line"
                        )
        return speakers

    def _speaker(self, speakers: dict[str, str], stem: str, path: Path) -> str:
        if not speakers:
            return ""
        if stem not in speakers:
            raise DatasetBuildError(
                f"{path}: {stem} is in no ASVspoof 5 protocol given, so its speaker is unknown (CoRS files are "
                "taken to keep their source utterance's name); import without --asvspoof5-protocols"
            )
        return speakers[stem]

    def list_parts(self) -> Listing:
        root = Path(self.source).expanduser()
        if not (root / "asvspoof5").is_dir() and not any((root / f).is_dir() for f in CORS_FOLDERS.values()):
            raise DatasetBuildError(
                f"{root}: no asvspoof5/ nor CoRS_train/ in it; pass the folder CDD's archives extract to ({RECORD})"
            )
        speakers = self._speakers()
        # (config, split) -> rows [relative path, speaker, utterance id, codec name]
        groups: dict[tuple[str, str], list[list[str]]] = {}
        for split, folder in BONAFIDE_FOLDERS.items():
            for path in _files(root / folder, (".flac",)):
                entry = [
                    path.relative_to(root).as_posix(),
                    self._speaker(speakers, path.stem, path),
                    path.stem,
                    "bonafide",
                ]
                groups.setdefault((BONAFIDE_CONFIG, split), []).append(entry)
        for split, folder in CORS_FOLDERS.items():
            for codec_folder in (
                sorted(p for p in (root / folder).glob("*") if p.is_dir()) if (root / folder).is_dir() else []
            ):
                name = codec_folder.name
                if name not in CDD_CODECS:
                    raise DatasetBuildError(
                        f"{codec_folder}: codec {name!r} is none of CDD's ({', '.join(CDD_CODECS)}); is this CDD?"
                    )
                if name in TEST_ONLY_CODECS and split != "test":
                    raise DatasetBuildError(
                        f"{codec_folder}: {name} is CDD's unseen codec, in CoRS_test only"
                    )
                config = CDD_CODECS[name][0]
                for path in _files(codec_folder, (".wav",)):
                    entry = [
                        path.relative_to(root).as_posix(),
                        self._speaker(speakers, path.stem, path),
                        path.stem,
                        name,
                    ]
                    groups.setdefault((config, split), []).append(entry)
        self._list_cosg(root, speakers, groups)
        if not groups:
            raise DatasetBuildError(f"{root}: no audio in asvspoof5/, CoRS_*/ or CoSG/")
        parts = []
        for (config, split), rows in sorted(
            groups.items(), key=lambda item: (item[0][0] != BONAFIDE_CONFIG, item[0])
        ):
            size = self.options.shard_size
            count = -(-len(rows) // size)
            for index in range(count):
                chunk = rows[index * size : (index + 1) * size]
                stamps = [file_stamp(root / row[0]) for row in chunk]
                parts.append(
                    InputPart(
                        f"{config} {split} {index + 1}/{count}", index, count, [chunk, stamps],
                        {"root": str(root.resolve()), "config": config, "split": split, "rows": chunk}, len(chunk),
                    )
                )  # fmt: skip
        return Listing(parts, {"id": str(root.resolve()), "hub_id": None, "revision": None})

    def _list_cosg(self, root: Path, speakers: dict[str, str], groups: dict) -> None:
        folder = root / COSG_FOLDER
        if not folder.is_dir():
            return
        codec_configs = {codec[0].lower() for codec in CDD_CODECS.values()}
        for path in _files(folder, (".wav", ".flac"), nested=True):
            below = path.relative_to(folder).as_posix()
            match = self.pattern.fullmatch(below)
            if match is None:
                raise DatasetBuildError(
                    f"{path}: {below!r} does not match --cosg-pattern {self.options.cosg_pattern!r}; pass a pattern "
                    "that fits CDD's CoSG layout"
                )
            system, split = match["system"], match.groupdict().get("split")
            if system in COSG_SPLITS or system.lower() in ("train", "dev", "test"):
                raise DatasetBuildError(
                    f"{path}: CoSG system {system!r} looks like a split folder; pass --cosg-pattern with the split "
                    "first, e.g. '(?P<split>[^/]+)/(?P<system>[^/]+)/(?P<utterance_id>[^/]+)\\.wav'"
                )
            if (
                not CONFIG_NAME.fullmatch(system)
                or reserved_config(system)
                or system.lower() in codec_configs
            ):
                raise DatasetBuildError(f"{path}: CoSG system {system!r} cannot name a config of its own")
            if split is not None and split not in COSG_SPLITS:
                raise DatasetBuildError(
                    f"{path}: split {split!r}; a CoSG split is one of {', '.join(COSG_SPLITS)}"
                )
            stem = match["utterance_id"]
            speaker = match.groupdict().get("speaker_id") or speakers.get(stem, "")
            entry = [path.relative_to(root).as_posix(), speaker, stem, system]
            groups.setdefault((system, COSG_SPLITS.get(split, "test")), []).append(entry)

    # --- reading ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def open_part(self, part: InputPart, scratch: Path) -> Iterator[OpenedPart]:
        yield OpenedPart(self._batches(part))

    def _batches(self, part: InputPart) -> Iterator[dict[str, list]]:
        from dataset_builder.shard_files import ROW_GROUP_SIZE

        root, config, split = Path(part.location["root"]), part.location["config"], part.location["split"]
        rows = part.location["rows"]
        for start in range(0, len(rows), ROW_GROUP_SIZE):
            batch = empty_rows()
            for relative, speaker, stem, codec_name in rows[start : start + ROW_GROUP_SIZE]:
                path = root / relative
                append_row(
                    batch, read_bytes(path), path.name, str(path), label=int(config == BONAFIDE_CONFIG),
                    speaker_id=speaker, utterance_id=stem, codec=config, codec_name=codec_name, split=split,
                )  # fmt: skip
            yield batch


def _files(folder: Path, suffixes: tuple[str, ...], nested: bool = False) -> list[Path]:
    """The audio files in ``folder`` (and below it, ``nested``), sorted; any other file, or a folder
    where none is expected, is refused."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.rglob("*") if nested else folder.iterdir()):
        if path.is_dir() and nested:
            continue
        if path.is_dir() or path.suffix not in suffixes:
            raise DatasetBuildError(
                f"{path}: not a {'/'.join(s.lstrip('.') for s in suffixes)} file where CDD keeps only those; "
                "remove it or import a clean copy"
            )
        files.append(path)
    return files
