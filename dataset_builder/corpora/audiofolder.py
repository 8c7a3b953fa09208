"""A speech corpus in a local folder, in the Hugging Face ``audiofolder`` convention: audio files
anywhere under the folder and a ``metadata.csv`` naming them.

``metadata.csv`` columns:

- ``file_name`` (required): the audio file's path relative to the folder (any format
  :func:`codecfake_hf.audio.audio_io.load_audio` reads; listed by :mod:`codecfake_hf.audio.audio_folder`, which says why
  ``datasets``' own audiofolder builder does not list it);
- ``speaker_id`` (optional; another name with ``--speaker-column``): makes the split speaker-disjoint;
- ``text`` (optional; ``--text-column``): the transcript;
- ``split`` (optional): train / validation (or dev, valid) / test, the corpus' own split.

Utterance ids are the file names without suffix, with '/' written '_'. The licence is
``--source-license`` ("unknown", with a warning, when not given). Files that are missing or cannot
be decoded are reported and left out by the build, as for VCTK.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from codecfake_hf.audio.audio_folder import METADATA_FILE, list_audio_folder
from dataset_builder import DatasetBuildError
from dataset_builder.corpus import (
    CorpusManifest,
    Listed,
    assign_splits,
    chosen_column,
    relative_id,
    source_license,
)
from dataset_builder.source_options import SourceOptions

if TYPE_CHECKING:
    from dataset_builder.build_options import BuildOptions


def prepare_audiofolder(folder: str | os.PathLike, options: SourceOptions) -> CorpusManifest:
    """List the utterances of the audiofolder corpus ``folder`` with speakers, transcripts and split
    (:func:`codecfake_hf.audio.audio_folder.list_audio_folder` reads ``metadata.csv``).

    Returns:
        A :class:`~dataset_builder.corpus.CorpusManifest`; audio is not read here (the build checks it).
    """
    listing = list_audio_folder(
        folder, error=DatasetBuildError, optional_columns=("speaker_id", "text", "split")
    )
    root, columns = listing.folder, listing.columns
    metadata = root / METADATA_FILE
    speaker_column = chosen_column(
        columns, options.speaker_column, "speaker_id", "--speaker-column", str(metadata)
    )
    text_column = chosen_column(columns, options.text_column, "text", "--text-column", str(metadata))
    listed = [
        Listed(
            speaker_id=file.fields[speaker_column].strip() if speaker_column else "",
            utterance_id=relative_id(file.name),
            path=str(file.path),
            text=file.fields[text_column].strip() if text_column else "",
            source_split=file.fields["split"].strip() or None if "split" in columns else None,
        )
        for file in listing.files
    ]
    utterances, rule = assign_splits(listed, options, str(metadata))
    source = {
        "kind": "audiofolder",
        "id": str(root),
        "license": source_license(None, options, str(root)),
        "columns": {"audio": "file_name", "speaker": speaker_column, "text": text_column},
        "split_rule": rule,
    }
    return CorpusManifest(root, utterances, source)


def prepare(location: str, source: SourceOptions, options: BuildOptions, cache_dir: Path) -> CorpusManifest:
    """The build's listing of ``audiofolder:PATH``: :func:`prepare_audiofolder` of ``location``."""
    return prepare_audiofolder(location, source)


#: The manifest :func:`prepare` returns (a launched build's other processes read it back from JSON).
MANIFEST = CorpusManifest
