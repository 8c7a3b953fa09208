"""A speech corpus in a local folder, in the Hugging Face ``audiofolder`` convention: audio files
anywhere under the folder and a ``metadata.csv`` naming them.

``metadata.csv`` columns:

- ``file_name`` (required): the audio file's path relative to the folder (any format
  :func:`codecfake_hf.audio.load_audio` reads);
- ``speaker_id`` (optional; another name with ``--speaker-column``): makes the split speaker-disjoint;
- ``text`` (optional; ``--text-column``): the transcript;
- ``split`` (optional): train / validation (or dev, valid) / test, the corpus' own split.

Utterance ids are the file names without suffix, with '/' written '_'. The licence is
``--source-license`` ("unknown", with a warning, when not given). Files that are missing or cannot
be decoded are reported and left out by the build, as for VCTK.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path, PurePosixPath

from dataset_builder import DatasetBuildError
from dataset_builder.corpus import CorpusManifest, Listed, assign_splits, relative_id, source_license
from dataset_builder.source_options import SourceOptions

METADATA_FILE = "metadata.csv"


def read_metadata(path: Path) -> list[dict[str, str]]:
    """The rows of ``metadata.csv`` (``file_name`` checked present)."""
    if not path.is_file():
        raise DatasetBuildError(
            f"{path}: missing; an audiofolder corpus needs a metadata.csv with a file_name column (audio paths "
            "relative to the folder) and optional speaker_id, text, split columns"
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "file_name" not in columns:
            raise DatasetBuildError(
                f"{path}: no file_name column (columns: {', '.join(columns) or 'none'}); add file_name holding "
                "each audio file's path relative to the folder"
            )
        return list(reader)


def _column(path: Path, columns: list[str], chosen: str | None, default: str, flag: str) -> str | None:
    """The column to read: ``chosen`` (must exist), else ``default`` when present, else None."""
    if chosen is None:
        return default if default in columns else None
    if chosen not in columns:
        raise DatasetBuildError(
            f"{path}: no column {chosen!r} (columns: {', '.join(columns)}); fix {flag} or the CSV header"
        )
    return chosen


def prepare_audiofolder(folder: str | os.PathLike, options: SourceOptions) -> CorpusManifest:
    """List the utterances of the audiofolder corpus ``folder`` with speakers, transcripts and split.

    Returns:
        A :class:`~dataset_builder.corpus.CorpusManifest`; audio is not read here (the build checks it).
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetBuildError(f"{folder}: no such folder; pass audiofolder:PATH with the corpus folder")
    root = folder.resolve()
    metadata = root / METADATA_FILE
    rows = read_metadata(metadata)
    if not rows:
        raise DatasetBuildError(f"{metadata}: no rows; list one audio file per line under the header")
    columns = list(rows[0])
    speaker_column = _column(metadata, columns, options.speaker_column, "speaker_id", "--speaker-column")
    text_column = _column(metadata, columns, options.text_column, "text", "--text-column")
    listed = []
    for line, row in enumerate(rows, start=2):
        name = (row["file_name"] or "").strip()
        relative = PurePosixPath(name.replace("\\", "/"))
        if not name or relative.is_absolute() or ".." in relative.parts:
            raise DatasetBuildError(
                f"{metadata}, line {line}: file_name {name!r} is not a path inside the folder; write it relative "
                "to the folder holding metadata.csv"
            )
        listed.append(
            Listed(
                speaker_id=(row.get(speaker_column) or "").strip() if speaker_column else "",
                utterance_id=relative_id(relative),
                path=str(root / relative),
                text=(row.get(text_column) or "").strip() if text_column else "",
                source_split=(row.get("split") or "").strip() or None if "split" in columns else None,
            )
        )
    utterances, rule = assign_splits(listed, options, str(metadata))
    source = {
        "kind": "audiofolder",
        "id": str(root),
        "license": source_license(None, options, str(root)),
        "columns": {"audio": "file_name", "speaker": speaker_column, "text": text_column},
        "split_rule": rule,
    }
    return CorpusManifest(root, utterances, source)
