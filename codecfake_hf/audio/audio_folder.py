"""A folder of audio files, listed in the Hugging Face ``audiofolder`` convention: the files a
``metadata.csv`` names, with its columns, or the files under one subfolder per label, labelled by the
subfolder's name. One lister for both folders this project reads: a corpus folder
(``codecfake build --source audiofolder:PATH``) and a labelled folder (``bonafide/`` + ``spoof/``, the
``--dataset`` of evaluate and calibrate).

``datasets``' own ``audiofolder`` builder (``load_dataset("audiofolder", data_dir=...)``) lists the
same conventions, but not as these folders need (checked with datasets 5.2):

- its extensions leave out ``.m4a`` and ``.aif``, which :func:`codecfake_hf.audio.audio_io.load_audio` reads (through
  FFmpeg and libsndfile): such files would be dropped without a word;
- a file's label is its parent folder, and only when every file lies at the same depth, so
  ``spoof/valle/x.wav`` beside ``spoof/y.wav`` gives no labels at all;
- subfolders named ``train`` / ``test`` become splits, and a ``metadata.csv`` above them is then
  ignored;
- ``metadata.csv`` is read with pandas, which turns a speaker id ``007`` into the number 7;
- a file name outside the folder is a ``ValueError`` without the line it is on.

Here every value of ``metadata.csv`` stays the text it is, and every problem is one line naming the
file (and line) and the fix.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codecfake_hf.errors import CodecFakeError, InputFileError

#: What a labelled folder's audio files end in (any case): the formats
#: :func:`codecfake_hf.audio.audio_io.load_audio` decodes, through libsndfile (wav, flac, ogg, mp3, aiff, au, caf,
#: w64, rf64) or FFmpeg (m4a/AAC, mp4, opus, wma, webm, mka, amr).
AUDIO_SUFFIXES = frozenset(
    {
        ".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aiff", ".aif", ".au", ".caf", ".w64", ".rf64",
        ".m4a", ".aac", ".mp4", ".wma", ".webm", ".mka", ".amr",
    }
)  # fmt: skip
#: The file that lists a corpus folder's audio.
METADATA_FILE = "metadata.csv"


@dataclass(frozen=True)
class FolderFile:
    """One audio file of a folder.

    Attributes:
        path: where it is: the listing's folder joined with ``name``.
        name: its path relative to the folder, in POSIX form (``spoof/valle/x.wav``).
        fields: the values of its ``metadata.csv`` row by column ("" where the row has none), or
            ``{"label": <its label folder>}``.
    """

    path: Path
    name: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class FolderListing:
    """What :func:`list_audio_folder` found: the ``folder`` (absolute for a ``metadata.csv`` listing, as
    given for a labelled one), its ``files`` and the ``columns`` of their ``fields`` (``metadata.csv``'s
    header, or ``["label"]``)."""

    folder: Path
    files: list[FolderFile]
    columns: list[str]


def list_audio_folder(
    folder: str | os.PathLike,
    labels: Sequence[str] = (),
    error: type[CodecFakeError] = InputFileError,
    optional_columns: Sequence[str] = (),
) -> FolderListing:
    """The audio files of ``folder``: with ``labels``, every audio file (:data:`AUDIO_SUFFIXES`) under
    ``folder/<label>/`` at any depth, label by label, each sorted by path; without, the files
    ``folder/metadata.csv`` names in its ``file_name`` column, in its order.

    Args:
        labels: the label subfolders ("bonafide", "spoof"), which must all be there and hold audio.
        error: the exception class to raise (a :class:`~codecfake_hf.errors.CodecFakeError`).
        optional_columns: the further columns a ``metadata.csv`` may have, named in the error for a
            missing one.

    Raises:
        error: ``folder`` is no folder; a label folder is missing or holds no audio; ``metadata.csv`` is
            missing, has no ``file_name`` column or no rows, or names a file outside the folder (with
            its line).
    """
    folder = Path(folder).expanduser()
    if labels:
        return _labelled(folder, labels, error)
    if not folder.is_dir():
        raise error(f"{folder}: no such folder; pass the folder holding {METADATA_FILE} and the audio")
    root = folder.resolve()
    metadata = root / METADATA_FILE
    if not metadata.is_file():
        further = f" and optional {', '.join(optional_columns)} columns" if optional_columns else ""
        raise error(
            f"{metadata}: missing; an audio folder needs a {METADATA_FILE} with a file_name column (audio paths "
            f"relative to the folder){further}"
        )
    with metadata.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        if "file_name" not in columns:
            raise error(
                f"{metadata}: no file_name column (columns: {', '.join(columns) or 'none'}); add file_name holding "
                "each audio file's path relative to the folder"
            )
        rows = list(reader)
    if not rows:
        raise error(f"{metadata}: no rows; list one audio file per line under the header")
    files = []
    for line, row in enumerate(rows, start=2):
        name = (row["file_name"] or "").strip()
        relative = PurePosixPath(name.replace("\\", "/"))
        if not name or relative.is_absolute() or ".." in relative.parts:
            raise error(
                f"{metadata}, line {line}: file_name {name!r} is not a path inside the folder; write it relative "
                f"to the folder holding {METADATA_FILE}"
            )
        fields = {column: row.get(column) or "" for column in columns}
        files.append(FolderFile(root / relative, relative.as_posix(), fields))
    return FolderListing(root, files, columns)


def _labelled(folder: Path, labels: Sequence[str], error: type[CodecFakeError]) -> FolderListing:
    if not all((folder / label).is_dir() for label in labels):
        expected = " and ".join(f"{label}/" for label in labels)
        raise error(f"{folder}: expected subfolders {expected} holding audio files")
    files = []
    for label in labels:
        found = sorted(
            path
            for path in (folder / label).rglob("*")
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file()
        )
        if not found:
            raise error(f"{folder / label}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
        files += [FolderFile(path, path.relative_to(folder).as_posix(), {"label": label}) for path in found]
    return FolderListing(folder, files, ["label"])
