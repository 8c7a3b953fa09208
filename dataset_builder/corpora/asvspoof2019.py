"""ASVspoof 2019 logical access (LA), the anti-spoofing baseline corpus (Edinburgh DataShare, ODC-By 1.0):
``codecfake import asvspoof2019 LA_FOLDER`` with LA_FOLDER the ``LA/`` folder of ``LA.zip`` (or the folder
holding it)::

    ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    ASVspoof2019_LA_{train,dev,eval}/flac/<utterance>.flac

Each countermeasure protocol line has five space-separated fields, ``SPEAKER UTTERANCE - SYSTEM KEY``
(``LA_0079 LA_T_1271820 - A01 spoof``; SYSTEM ``-`` for bona fide). The key string gives the label
(``bonafide`` -> 1, ``spoof`` -> 0; the integer labels of some copies have the opposite polarity, so
they are never used); SYSTEM gives the config: one per attack, ``A01``..``A19``, holding the attack's rows
of a split next to the split's bona fide rows (``A01``..``A06`` have train and validation rows,
``A07``..``A19`` test rows only). The corpus's own split is kept: train -> train, dev -> validation,
eval -> test, checked to share no speaker (the facts do not confirm it; ``--allow-shared-speakers``
imports a corpus whose splits do, and the card says so). Audio: the FLAC files' bytes, unchanged
(16 kHz). Anything else (a line of another shape, another key, a system that is no attack id, a key that
contradicts its system, a missing file) stops the import before anything is written, naming the file,
the line and the value.

The ASV protocols and scores (``ASVspoof2019_LA_asv_*``) are not read: they are speaker-verification
trials, not the countermeasure labels.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.data.labels import BONAFIDE_CONFIG
from dataset_builder import DatasetBuildError, corpora
from dataset_builder.build_cache import cache_key

PROTOCOL_DIR = "ASVspoof2019_LA_cm_protocols"
#: Our split -> (the corpus's part name, its protocol file).
PARTS = {
    "train": ("train", "ASVspoof2019.LA.cm.train.trn.txt"),
    "validation": ("dev", "ASVspoof2019.LA.cm.dev.trl.txt"),
    "test": ("eval", "ASVspoof2019.LA.cm.eval.trl.txt"),
}
BONAFIDE_KEY, SPOOF_KEY = "bonafide", "spoof"
#: The SYSTEM field of bona fide lines.
NO_SYSTEM = "-"
ATTACK = re.compile(r"A\d\d")
#: Published rows per split (train and eval from the AASIST and CodecFake papers; dev from the ASVspoof
#: 2019 paper, not checked against a copy of the corpus).
PUBLISHED_ROWS = {"train": 25_380, "validation": 24_844, "test": 71_237}
#: Taxonomy label of what is no codec (the attacks are TTS and VC systems).
NOT_A_CODEC = "n/a"
DATASHARE = "https://datashare.ed.ac.uk/handle/10283/3336"
ASVSPOOF2019_CITATION = """@article{wang2020asvspoof,
  title = {{ASVspoof} 2019: A large-scale public database of synthesized, converted and replayed speech},
  author = {Wang, Xin and Yamagishi, Junichi and Todisco, Massimiliano and Delgado, H{\\'e}ctor and
            Nautsch, Andreas and Evans, Nicholas and Sahidullah, Md and Vestman, Ville and Kinnunen, Tomi and
            Lee, Kong Aik and others},
  journal = {Computer Speech \\& Language},
  volume = {64},
  pages = {101114},
  year = {2020}
}"""


@dataclass(frozen=True)
class Options:
    """How to read ASVspoof 2019 LA (``codecfake import asvspoof2019 --help``)."""

    shard_size: int = field(default=1000, metadata={"help": "rows per parquet file of a config and split"})
    allow_shared_speakers: bool = field(
        default=False,
        metadata={
            "help": "import even if a speaker is in two of train / dev / eval (the official split is "
            "described as speaker-disjoint; by default an overlap stops the import, naming the speakers)"
        },
    )


@dataclass(frozen=True)
class _Line:
    speaker_id: str
    utterance_id: str
    system: str
    label: int


class Corpus(corpora.ImportedCorpus):
    """ASVspoof 2019 LA (module docstring)."""

    kind = "asvspoof2019"
    title = "ASVspoof 2019 LA"
    description = (
        "The logical-access part of ASVspoof 2019: bona fide VCTK speech and spoofs from 19 text-to-speech "
        "and voice-conversion systems (attacks A01..A19), in the challenge's speaker-disjoint train, "
        "development and evaluation parts, at 16 kHz."
    )
    license = "odc-by"
    license_name = "ODC-By 1.0 (Edinburgh DataShare)"
    license_link = DATASHARE
    attribution = (
        "ASVspoof 2019 by the ASVspoof consortium (Wang, Yamagishi, Todisco et al.), distributed by the "
        f"University of Edinburgh DataShare ({DATASHARE}) under the Open Data Commons Attribution License "
        "1.0, built on the VCTK corpus. Changes made by this import: one config per attack holding the "
        "attack's rows and the split's bona fide rows, the splits renamed (dev -> validation, eval -> test), "
        "the key became a ClassLabel (bona fide = 1), and the columns codec, the taxonomy columns and "
        "sampling_rate were added; the FLAC bytes are unchanged."
    )
    citation = ASVSPOOF2019_CITATION
    config_noun = "attack"

    def __init__(self, source: str, options: Options) -> None:
        super().__init__(source, options)
        if options.shard_size < 1:
            raise DatasetBuildError(f"--shard-size {options.shard_size}: must be at least 1")

    def fingerprint(self) -> dict:
        return {"shard_size": self.options.shard_size}

    def split_rule(self) -> dict:
        return {"rule": "source splits"}

    def taxonomy(self, config: str) -> dict[str, str]:
        return {
            "family": config,
            "quantizer": NOT_A_CODEC,
            "auxiliary": NOT_A_CODEC,
            "decoder_domain": NOT_A_CODEC,
        }

    def notes(self) -> list[str]:
        return [
            "Labels from the protocols' key strings (`bonafide` -> 1, `spoof` -> 0); every key agreed with "
            "its system field (`-` for bona fide, A01..A19 for spoofs).",
            "Published sizes: "
            + ", ".join(f"{split} {rows:,}" for split, rows in PUBLISHED_ROWS.items())
            + " rows (validation = the development part, its size not checked here); the configs table shows "
            "this copy's.",
            "The licence is stated as ODC-By 1.0 by the DataShare record; read its text before you publish a "
            "converted copy.",
        ] + (
            ["Imported with `--allow-shared-speakers`: a speaker in two of train / dev / eval was kept."]
            if self.options.allow_shared_speakers
            else []
        )

    def check(self, summary: corpora.ImportSummary) -> None:
        shared = summary.shared_speakers()
        if shared and not self.options.allow_shared_speakers:
            raise DatasetBuildError(
                f"{self.source}: speaker(s) {', '.join(list(shared)[:10])} are in more than one of train / "
                "dev / eval; the import expected the official speaker-disjoint split. Pass "
                "--allow-shared-speakers to import it as it is (the card lists the shared speakers)"
            )

    def _root(self) -> Path:
        folder = Path(self.source).expanduser()
        for candidate in (folder, folder / "LA"):
            if (candidate / PROTOCOL_DIR).is_dir():
                return candidate
        raise DatasetBuildError(
            f"{folder}: no {PROTOCOL_DIR}/ in it or in {folder / 'LA'}; pass the LA/ folder of ASVspoof "
            f"2019's LA.zip ({DATASHARE})"
        )

    def list_parts(self) -> corpora.Listing:
        from codecfake_hf.files.hub_io import sha256_file

        root = self._root()
        parts, protocols = [], {}
        for split, (name, protocol) in PARTS.items():
            path = root / PROTOCOL_DIR / protocol
            if not path.is_file():
                raise DatasetBuildError(f"{path}: missing; the LA folder holds the {name} protocol there")
            protocols[protocol] = sha256_file(path)
            audio = root / f"ASVspoof2019_LA_{name}" / "flac"
            by_config: dict[str, list[_Line]] = {}
            for line in _read_protocol(path):
                config = BONAFIDE_CONFIG if line.label else line.system
                by_config.setdefault(config, []).append(line)
            _check_files(audio, [line for lines in by_config.values() for line in lines])
            for config in sorted(by_config, key=lambda c: (c != BONAFIDE_CONFIG, c)):
                lines, size = by_config[config], self.options.shard_size
                count = -(-len(lines) // size)
                for index in range(count):
                    chunk = lines[index * size : (index + 1) * size]
                    rows = [[line.speaker_id, line.utterance_id, line.system, line.label] for line in chunk]
                    stamps = [corpora.file_stamp(audio / f"{line.utterance_id}.flac") for line in chunk]
                    parts.append(
                        corpora.InputPart(
                            f"{protocol} {config} {index + 1}/{count}",
                            index,
                            count,
                            cache_key([rows, stamps]),
                            {"split": split, "config": config, "folder": str(audio.resolve()), "rows": rows},
                            len(rows),
                        )
                    )
        return corpora.Listing(
            parts, {"id": str(root.resolve()), "hub_id": None, "revision": None, "protocols": protocols}
        )

    @contextlib.contextmanager
    def open_part(self, part: corpora.InputPart, scratch: Path) -> Iterator[corpora.OpenedPart]:
        yield corpora.OpenedPart(self._batches(part))

    def _batches(self, part: corpora.InputPart) -> Iterator[dict[str, list]]:
        from dataset_builder.shard_files import ROW_GROUP_SIZE

        folder, split, config = Path(part.location["folder"]), part.location["split"], part.location["config"]
        lines = part.location["rows"]
        for start in range(0, len(lines), ROW_GROUP_SIZE):
            rows = corpora.empty_rows()
            for speaker_id, utterance_id, system, label in lines[start : start + ROW_GROUP_SIZE]:
                path = folder / f"{utterance_id}.flac"
                corpora.append_row(
                    rows, corpora.read_bytes(path), path.name, str(path), label=label, speaker_id=speaker_id,
                    utterance_id=utterance_id, codec=config, codec_name=system, split=split,
                )  # fmt: skip
            yield rows


def _read_protocol(path: Path) -> list[_Line]:
    """The lines of a countermeasure protocol, each checked (module docstring)."""
    lines, seen = [], {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        fields = text.split()
        if len(fields) != 5:
            raise DatasetBuildError(
                f"{where}: {len(fields)} fields in {text!r}; a countermeasure protocol line has 5 "
                "(SPEAKER UTTERANCE - SYSTEM KEY)"
            )
        speaker_id, utterance_id, _, system, key = fields
        label = corpora.label_of(key, BONAFIDE_KEY, SPOOF_KEY, where)
        if label and system != NO_SYSTEM or not label and not ATTACK.fullmatch(system):
            expected = f"{NO_SYSTEM!r}" if label else "an attack id A01..A19"
            raise DatasetBuildError(
                f"{where}: key {key!r} with system {system!r}; a {key} line has {expected}"
            )
        if utterance_id in seen:
            raise DatasetBuildError(
                f"{where}: utterance {utterance_id} is listed again (line {seen[utterance_id]})"
            )
        seen[utterance_id] = number
        lines.append(_Line(speaker_id, utterance_id, system, label))
    if not lines:
        raise DatasetBuildError(f"{path}: no protocol lines")
    return lines


def _check_files(folder: Path, lines: list[_Line]) -> None:
    present = {path.name for path in folder.glob("*.flac")} if folder.is_dir() else set()
    missing = [line.utterance_id for line in lines if f"{line.utterance_id}.flac" not in present]
    if missing:
        raise DatasetBuildError(
            f"{folder}: {len(missing)} file(s) of the protocol missing, e.g. {missing[0]}.flac; extract "
            "LA.zip completely"
        )
