"""Codecfake of Xie et al. (arXiv 2405.04880; Zenodo, CC BY-NC-ND 4.0): ``codecfake import xie FOLDER``.
Not the CodecFake release nor CodecFake+. The corpus has twelve pieces: ``train``, ``dev`` and the test
conditions ``C1``..``C7`` (codecs; C7 unseen) and ``A1``..``A3`` (audio language models; A3 audio events).
FOLDER holds each piece either extracted (the authors' layout)::

    label/<piece>.txt          <file.wav> <real|fake> <third field>, one line per file
    train/*.wav   dev/*.wav    test/<C1..C7, A1..A3>/*.wav

or as Zenodo's zips: ``C1.zip`` ... ``A3.zip`` as published, and ``train`` / ``dev`` joined from their split
zips (``train_split.zip`` + ``.z01``...``.z16``): Python's ``zipfile`` cannot read an archive that spans
several files, and reading one in place would mean rewriting its central directory by hand, so join them
once with Info-ZIP, ``zip -s 0 train_split.zip --out train.zip`` (and ``dev``), and delete the pieces. A zip
is read in place (members are looked up by file name, in any folder; nothing is extracted). A label file
is looked for in ``--labels``, ``label/``, FOLDER, then inside the piece's zip (any folder), as ``<piece>.txt``.

Labels from the strings only: ``real`` -> 1, ``fake`` -> 0 (the authors' ``dataset.py`` maps them the other
way round; integers are never read). Configs: each test condition is a test-only config holding its own
real and fake files (its real set is its own: the same VCTK/AISHELL3 files in C1..C6, AudioCaps clips in
A3), named by the condition; the fakes of ``train`` and ``dev`` go to one config per file-name prefix
(``F01_p225_001.wav`` -> config ``F01``: the codec of that fake; which codec each prefix is, is not
verified, so no taxonomy is claimed: ``unknown``), their real files to ``bonafide``; ``dev`` is the
validation split. Speakers from the file names (``--speaker-pattern``: VCTK ``p225``, AISHELL3's first 7
characters ``SSB0005``; none for audio events). The authors' split is kept; whether it is
speaker-disjoint is not documented, so speakers shared by splits are listed in the card, not refused.

A converted copy is an adaptation, which CC BY-NC-ND forbids sharing: ``codecfake push`` refuses it.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.data.labels import BONAFIDE_CONFIG
from dataset_builder import DatasetBuildError
from dataset_builder.corpora import (
    CONFIG_NAME,
    UNKNOWN,
    ImportedCorpus,
    ImportSummary,
    InputPart,
    Listing,
    OpenedPart,
    append_row,
    empty_rows,
    file_stamp,
    label_of,
    option_pattern,
    read_bytes,
    reserved_config,
)

PIECES = ("train", "dev", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "A1", "A2", "A3")
TEST_PIECES = PIECES[2:]
REAL_LABEL, FAKE_LABEL = "real", "fake"
#: Zenodo record of each piece (the authors' README; C7 is on its own record).
ZENODO = "https://zenodo.org/records/13838823"
DEFAULT_FAKE_PATTERN = r"(?P<prefix>F\d\d|C\d-\d+|L\d)_(?P<original>.+)"
DEFAULT_SPEAKER_PATTERN = r"(?P<speaker_id>(?:p\d{3}|s5)(?=_)|SSB\d{4})_?\d+"
#: Published files per piece (the authors' README; A1's result file lists 8,887).
PUBLISHED_FILES = {
    "train": 740_747, "dev": 92_596, **dict.fromkeys(("C1", "C2", "C3", "C4", "C5", "C6"), 26_456),
    "C7": 145_505, "A1": 8_902, "A2": 8_902, "A3": 99_112,
}  # fmt: skip
NO_DERIVATIVES = (
    "Codecfake (Xie et al.) is licensed CC BY-NC-ND 4.0: a converted copy is an adaptation, which that licence "
    "forbids sharing. Use this folder locally; to share the corpus, point people to its Zenodo records"
)
XIE_CITATION = """@article{xie2024codecfake,
  title = {The Codecfake Dataset and Countermeasures for the Universally Detection of Deepfake Audio},
  author = {Xie, Yuankun and Lu, Yi and Fu, Ruibo and others},
  journal = {arXiv preprint arXiv:2405.04880},
  year = {2024}
}"""


@dataclass(frozen=True)
class Options:
    """How to read Xie et al.'s Codecfake (``codecfake import xie --help``)."""

    pieces: list[str] = field(
        default_factory=lambda: list(PIECES),
        metadata={"help": "the pieces to import (train dev C1..C7 A1..A3); each must be in SOURCE"},
    )
    labels: str | None = field(
        default=None, metadata={"help": "a folder holding the label files <piece>.txt, if not in SOURCE"}
    )
    fake_pattern: str = field(
        default=DEFAULT_FAKE_PATTERN,
        metadata={
            "help": "regular expression a fake file's stem matches in full and a real one's does not: group "
            "prefix (the config of a train / dev fake) and original (the real file it re-synthesises). The "
            "default reads the authors' prefixes F01_..F06_, C3-1_, L1_"
        },
    )
    speaker_pattern: str = field(
        default=DEFAULT_SPEAKER_PATTERN,
        metadata={
            "help": "regular expression matched in full against a real stem (a fake's original): group "
            "speaker_id (VCTK p225 of p225_001, AISHELL3 SSB0005 of SSB00050001); a stem it does not match "
            "has no speaker (audio events)"
        },
    )
    shard_size: int = field(default=1000, metadata={"help": "rows per parquet file of a config and split"})


@dataclass(frozen=True)
class _Line:
    file: str
    label: int
    config: str
    codec_name: str
    speaker_id: str


class Corpus(ImportedCorpus):
    """Xie et al.'s Codecfake (module docstring)."""

    kind = "xie"
    title = "Codecfake (Xie et al., 2024)"
    description = (
        "Codecfake of Xie et al.: English (VCTK) and Mandarin (AISHELL3) speech and its re-syntheses by seven "
        "neural audio codecs, in the authors' training and development sets and eleven test conditions "
        "(C1..C7 codecs, C7 unseen; A1..A3 audio language models, A3 on audio events)."
    )
    license = "cc-by-nc-nd-4.0"
    license_name = "CC BY-NC-ND 4.0"
    license_link = "https://github.com/xieyuankun/Codecfake"
    attribution = (
        "Codecfake by Yuankun Xie, Yi Lu, Ruibo Fu et al. (arXiv:2405.04880), published on Zenodo under CC "
        "BY-NC-ND 4.0 (non-commercial, no derivatives); its source speech is VCTK (CC BY 4.0) and AISHELL3 "
        "(Apache 2.0), A3 holds AudioCaps-style audio events. Changes made by this import (for local use "
        "only): the files regrouped into one config per test condition and per training-fake prefix, dev "
        "renamed validation, the labels became a ClassLabel (bona fide = 1), and the columns speaker_id, "
        "utterance_id, codec, the taxonomy (unknown) and sampling_rate were added; the audio bytes are "
        "unchanged. **Do not publish this folder** (the licence forbids sharing adaptations)."
    )
    citation = XIE_CITATION
    language = ["en", "zh"]
    config_noun = "test condition or training-fake prefix"
    publish_refusal = NO_DERIVATIVES

    def __init__(self, source: str, options: Options) -> None:
        super().__init__(source, options)
        unknown = [piece for piece in options.pieces if piece not in PIECES]
        if unknown or not options.pieces:
            raise DatasetBuildError(f"--pieces {' '.join(options.pieces)}: choose from {' '.join(PIECES)}")
        if options.shard_size < 1:
            raise DatasetBuildError(f"--shard-size {options.shard_size}: must be at least 1")
        self.fake = option_pattern("--fake-pattern", options.fake_pattern, ("prefix", "original"))
        self.speaker = option_pattern("--speaker-pattern", options.speaker_pattern, ("speaker_id",))
        self._lines: dict[str, list[_Line]] = {}
        self._zips: dict[str, tuple[zipfile.ZipFile, dict[str, str]]] = {}

    def fingerprint(self) -> dict:
        options = self.options
        return {"patterns": [options.fake_pattern, options.speaker_pattern], "shard_size": options.shard_size}

    def split_rule(self) -> dict:
        return {"rule": "source splits"}

    def taxonomy(self, config: str) -> dict[str, str]:
        return {"family": config, "quantizer": UNKNOWN, "auxiliary": UNKNOWN, "decoder_domain": UNKNOWN}

    def notes(self) -> list[str]:
        return [
            f"Pieces read: {', '.join(self.options.pieces)}. Labels from the strings (`real` -> 1, `fake` -> 0; "
            "the authors' `dataset.py` maps them the other way round, so no integer label was read).",
            "Test conditions are test-only configs with their own real files; train / dev fakes are grouped by "
            f"their file-name prefix (`--fake-pattern` `{self.options.fake_pattern}`). Which codec each "
            "condition and prefix is, is not verified: the taxonomy columns say `unknown`.",
            f"Speakers from the file names (`--speaker-pattern` `{self.options.speaker_pattern}`); files it "
            "does not match (audio events) have none. The authors' split was kept; speakers it shares between "
            "splits are listed below the split table.",
            f"Licence CC BY-NC-ND 4.0: `codecfake push` refuses this folder. {NO_DERIVATIVES}.",
        ]

    def check(self, summary: ImportSummary) -> None:
        """Nothing to refuse: a speaker overlap between the authors' splits is recorded in the card."""

    # --- the files ----------------------------------------------------------------------------

    def _root(self) -> Path:
        root = Path(self.source).expanduser()
        if not root.is_dir():
            raise DatasetBuildError(
                f"{root}: no such folder; pass the folder of Codecfake's zips or its extraction"
            )
        return root / "Codecfake" if (root / "Codecfake" / "label").is_dir() else root

    def _audio_folder(self, piece: str) -> Path:
        return self._root() / (piece if piece in ("train", "dev") else f"test/{piece}")

    def _zip_path(self, piece: str) -> Path | None:
        """The zip of ``piece`` (None: none); a split zip not yet joined is refused, saying how to join it."""
        root = self._root()
        names = [f"{piece}.zip", f"{piece}_split.zip"] if piece in ("train", "dev") else [f"{piece}.zip"]
        for name in names:
            path = root / name
            if path.is_file():
                if path.with_suffix(".z01").exists():
                    raise DatasetBuildError(
                        f"{path}: a split zip ({path.stem}.z01 ... beside it), which Python cannot read in place; "
                        f"join it once: `zip -s 0 {path.name} --out {piece}.zip`, then delete {path.stem}.z* and "
                        "import again"
                    )
                return path
        return None

    def _zip(self, piece: str) -> tuple[zipfile.ZipFile, dict[str, str]]:
        """The open zip of ``piece`` and ``{file name: member}`` of its audio (read once per process)."""
        if piece not in self._zips:
            path = self._zip_path(piece)
            try:
                archive = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise DatasetBuildError(f"{path}: not a readable zip ({error}); download it again") from None
            members: dict[str, str] = {}
            for info in archive.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                if info.is_dir() or name.endswith(".txt"):
                    continue
                if not name.endswith(".wav"):
                    raise DatasetBuildError(f"{path}: member {info.filename!r} is no .wav file of the corpus")
                if name in members:
                    raise DatasetBuildError(
                        f"{path}: {name} is in it twice ({members[name]}, {info.filename})"
                    )
                members[name] = info.filename
            self._zips[piece] = (archive, members)
        return self._zips[piece]

    def _member(self, piece: str, file: str) -> tuple[bytes, str]:
        """The bytes of ``file`` in the zip of ``piece``, and where they are."""
        archive, members = self._zip(piece)
        where = f"{archive.filename}:{members[file]}"
        try:
            return archive.read(members[file]), where
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise DatasetBuildError(f"{where}: cannot be read ({error}); download the zip again") from None

    def _label_text(self, piece: str) -> tuple[str, str]:
        """``(where, text)`` of the label file of ``piece``."""
        root = self._root()
        folders = [Path(self.options.labels).expanduser()] if self.options.labels else []
        for folder in [*folders, root / "label", root]:
            if (folder / f"{piece}.txt").is_file():
                return str(folder / f"{piece}.txt"), (folder / f"{piece}.txt").read_text(encoding="utf-8")
        if self._zip_path(piece) is not None:
            archive, _ = self._zip(piece)
            inside = [name for name in archive.namelist() if name.rsplit("/", 1)[-1] == f"{piece}.txt"]
            if len(inside) == 1:
                return f"{archive.filename}:{inside[0]}", archive.read(inside[0]).decode("utf-8")
        raise DatasetBuildError(
            f"{root}: no label file {piece}.txt (looked in {', '.join(str(f) for f in [*folders, root / 'label', root])}"
            f" and in {piece}'s zip); pass --labels FOLDER"
        )

    def _piece_lines(self, piece: str) -> list[_Line]:
        """The label lines of ``piece``, each checked (module docstring), read once per process."""
        if piece in self._lines:
            return self._lines[piece]
        where, text = self._label_text(piece)
        lines, seen = [], {}
        for number, line in enumerate(text.splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            at = f"{where}:{number}"
            if len(fields) != 3:
                raise DatasetBuildError(
                    f"{at}: {len(fields)} fields in {line!r}; a label line has 3 (FILE LABEL X)"
                )
            file, value, _ = fields
            label = label_of(value, REAL_LABEL, FAKE_LABEL, at)
            if not file.endswith(".wav") or "/" in file:
                raise DatasetBuildError(f"{at}: file {file!r} is no .wav file name")
            if file in seen:
                raise DatasetBuildError(f"{at}: {file} is listed again (line {seen[file]})")
            seen[file] = number
            stem = file.removesuffix(".wav")
            fake = self.fake.fullmatch(stem)
            if bool(fake) == bool(label):
                raise DatasetBuildError(
                    f"{at}: {file} is {value!r} but its name "
                    + ("has" if fake else "lacks")
                    + f" a fake's prefix (--fake-pattern {self.options.fake_pattern!r})"
                )
            original = fake["original"] if fake else stem
            speaker = self.speaker.fullmatch(original)
            speaker_id = speaker["speaker_id"] if speaker else ""
            if label:
                config, codec_name = (BONAFIDE_CONFIG if piece in ("train", "dev") else piece), REAL_LABEL
            else:
                config, codec_name = (fake["prefix"] if piece in ("train", "dev") else piece), fake["prefix"]
                if piece in ("train", "dev") and (
                    not CONFIG_NAME.fullmatch(config) or reserved_config(config) or config in TEST_PIECES
                ):
                    raise DatasetBuildError(f"{at}: prefix {config!r} of {file} cannot name a config")
            lines.append(_Line(file, label, config, codec_name, speaker_id))
        if not lines:
            raise DatasetBuildError(f"{where}: no label lines")
        self._lines[piece] = lines
        return lines

    def _check_files(self, piece: str, lines: list[_Line]) -> tuple[Path, list]:
        """Check that the piece's audio and its label lines agree (no file missing, none unlisted);
        return the zip or folder read and what identifies its content."""
        listed = {line.file for line in lines}
        path = self._zip_path(piece)
        if path is not None:
            present = set(self._zip(piece)[1])
            stamp: list = file_stamp(path)
        else:
            path = self._audio_folder(piece)
            if not path.is_dir():
                raise DatasetBuildError(
                    f"{self._root()}: piece {piece} is missing (no {path.relative_to(self._root())}/ nor {piece}.zip); "
                    f"download it ({ZENODO}) or import --pieces without it"
                )
            present = {item.name for item in path.iterdir()}
            stamp = [file_stamp(path / line.file) for line in lines if line.file in present]
        missing, unlisted = sorted(listed - present), sorted(present - listed)
        if missing:
            raise DatasetBuildError(
                f"{path}: {len(missing)} file(s) of {piece}.txt missing, e.g. {missing[0]}"
            )
        if unlisted:
            raise DatasetBuildError(
                f"{path}: {unlisted[0]} (and {len(unlisted) - 1} more) in no line of {piece}.txt"
            )
        return path, stamp

    # --- listing and reading ------------------------------------------------------------------

    def list_parts(self) -> Listing:
        from codecfake_hf.files.hub_io import sha256_file

        root = self._root()
        parts, labels = [], {}
        for piece in self.options.pieces:
            lines = self._piece_lines(piece)
            path, stamp = self._check_files(piece, lines)
            read = None
            if path.suffix == ".zip":  # the report lists it once, with the piece's first part
                read = {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
            where = self._label_text(piece)[0]
            if Path(where).is_file():
                labels[Path(where).name] = sha256_file(Path(where))
            size = self.options.shard_size
            count = -(-len(lines) // size)
            for index in range(count):
                start, stop = index * size, min(len(lines), (index + 1) * size)
                identity = [
                    [(line.file, line.label) for line in lines[start:stop]],
                    stamp[start:stop] if path.is_dir() else stamp,
                ]
                parts.append(
                    InputPart(
                        f"{piece} {index + 1}/{count}", index, count, identity,
                        {"piece": piece, "start": start, "stop": stop, "input": None if index else read},
                        stop - start,
                    )
                )  # fmt: skip
        return Listing(
            parts, {"id": str(root.resolve()), "hub_id": None, "revision": None, "protocols": labels}
        )

    @contextlib.contextmanager
    def open_part(self, part: InputPart, scratch: Path) -> Iterator[OpenedPart]:
        yield OpenedPart(self._batches(part), part.location["input"])

    def _batches(self, part: InputPart) -> Iterator[dict[str, list]]:
        from dataset_builder.shard_files import ROW_GROUP_SIZE

        piece, start, stop = part.location["piece"], part.location["start"], part.location["stop"]
        lines = self._piece_lines(piece)[start:stop]
        split = {"train": "train", "dev": "validation"}.get(piece, "test")
        zipped = self._zip_path(piece)
        for first in range(0, len(lines), ROW_GROUP_SIZE):
            batch = empty_rows()
            for line in lines[first : first + ROW_GROUP_SIZE]:
                if zipped is not None:
                    data, where = self._member(piece, line.file)
                else:
                    path = self._audio_folder(piece) / line.file
                    data, where = read_bytes(path), str(path)
                append_row(
                    batch, data, line.file, where, label=line.label, speaker_id=line.speaker_id,
                    utterance_id=line.file.removesuffix(".wav"), codec=line.config, codec_name=line.codec_name,
                    split=split,
                )  # fmt: skip
            yield batch
