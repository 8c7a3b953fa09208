"""A Hugging Face audio dataset as the bona fide corpus: a Hub id, a local dataset folder (any
``load_dataset`` loads), or a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``.

Hub ids and dataset folders are streamed (``streaming=True``): rows are read once, in order, and
nothing but their audio is kept. The audio column is read undecoded (``datasets.Audio(decode=False)``):
audio stored in the dataset (bytes) is written unchanged to the build cache
(``<out>/.build/source/<key>/<split>/NNNNNNN<suffix>``, kept across resumed builds), audio that is a
local file is read where it lies; the build then decodes it like any source file, so an undecodable
row is reported and left out, as for VCTK.

Columns: ``--audio-column`` (default ``audio``), ``--speaker-column`` (default ``speaker_id`` when
present), ``--text-column`` (default ``text`` when present). Utterance ids: the audio files' names
without suffix when every row has a distinct one, else ``<split>-NNNNNNN``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import datasets
from tqdm.auto import tqdm

from dataset_builder import DatasetBuildError
from dataset_builder.build_cache import cache_key
from dataset_builder.corpus import CorpusManifest, Listed, assign_splits, chosen_column, source_license
from dataset_builder.source_options import SourceOptions

if TYPE_CHECKING:
    from dataset_builder.build_options import BuildOptions


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``save_to_disk``."""
    return (path / "dataset_dict.json").is_file() or (path / "state.json").is_file()


def open_dataset(
    location: str, options: SourceOptions
) -> dict[str, datasets.Dataset | datasets.IterableDataset]:
    """``{split: dataset}`` of ``location`` (saved folder: memory-mapped; else streamed), restricted to
    ``--source-split`` when given."""
    where = f"hf:{location}"
    path = Path(location).expanduser()
    try:
        if path.is_dir() and is_saved_dataset(path):
            if options.source_config:
                raise DatasetBuildError(
                    f"{where}: a saved dataset has no configurations; drop --source-config"
                )
            loaded = datasets.load_from_disk(str(path))
        else:
            loaded = datasets.load_dataset(location, options.source_config, streaming=True)
    except DatasetBuildError:
        raise
    except (FileNotFoundError, ValueError, ConnectionError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetBuildError(
            f"{where}: cannot load ({reason}); check the id or folder and --source-config (a Hub id needs network "
            "access or the Hub cache)"
        ) from None
    splits = (
        dict(loaded)
        if isinstance(loaded, (datasets.DatasetDict, datasets.IterableDatasetDict))
        else {"train": loaded}
    )
    if options.source_split is not None:
        if options.source_split not in splits:
            raise DatasetBuildError(
                f"{where}: no split {options.source_split!r} (splits: {', '.join(splits)}); fix --source-split"
            )
        splits = {options.source_split: splits[options.source_split]}
    return splits


def _columns(dataset, options: SourceOptions, where: str) -> tuple[str, str | None, str | None]:
    """The audio, speaker and text columns (checked against the dataset's features)."""
    features = dataset.features
    if features is None:
        raise DatasetBuildError(
            f"{where}: the dataset declares no features; save it with its Audio column typed"
        )
    names = list(features)
    audio = chosen_column(names, options.audio_column, "audio", "--audio-column", where)
    kind = features.get(audio)
    if not isinstance(kind, datasets.Audio) and getattr(kind, "dtype", None) not in (
        "string",
        "large_string",
    ):
        raise DatasetBuildError(
            f"{where}: column {audio!r} is {kind}, not audio (columns: {', '.join(names)}); fix --audio-column"
        )
    return (
        audio,
        chosen_column(names, options.speaker_column, "speaker_id", "--speaker-column", where),
        chosen_column(names, options.text_column, "text", "--text-column", where),
    )


def _materialize(audio: dict, target: Path) -> str:
    """The local path of one undecoded audio value: ``target`` (+ the original suffix) holding its
    bytes, written unless already there; or the file it names. A value with neither gives a path that
    does not exist, which the source check reports."""
    original = audio.get("path")
    data = audio.get("bytes")
    if data is None:
        return original if original and Path(original).is_file() else str(target)
    target = target.with_suffix(PurePosixPath(original).suffix if original else "")
    if not (target.is_file() and target.read_bytes() == data):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".tmp")
        partial.write_bytes(data)
        partial.replace(target)
    return str(target)


def prepare_hf_dataset(location: str, options: SourceOptions, cache_dir: str | os.PathLike) -> CorpusManifest:
    """List (and where needed materialise) the utterances of the dataset ``location``.

    Args:
        location: Hub id, dataset folder, or ``save_to_disk`` folder.
        options: config, split, columns, licence and split rule.
        cache_dir: the build cache (``<out>/.build``); audio held in the dataset is written under it.
    """
    where = f"hf:{location}"
    splits = open_dataset(location, options)
    root = Path(cache_dir) / "source" / cache_key([location, options.source_config, sorted(splits)])
    columns, declared, rows = None, None, []
    for split, dataset in splits.items():
        columns = _columns(dataset, options, where)
        audio_column, speaker_column, text_column = columns
        declared = declared or dataset.info.license
        dataset = dataset.cast_column(audio_column, datasets.Audio(decode=False))
        for index, row in enumerate(tqdm(dataset, desc=f"reading {where} {split}", unit="row")):
            audio = row[audio_column]
            audio = {"path": audio, "bytes": None} if isinstance(audio, str) else audio
            rows.append(
                {
                    "split": split,
                    "index": index,
                    "name": Path(audio["path"]).stem if audio.get("path") else None,
                    "path": _materialize(audio, root / split / f"{index:07d}"),
                    "speaker_id": ""
                    if speaker_column is None or row[speaker_column] is None
                    else str(row[speaker_column]),
                    "text": ""
                    if text_column is None or row[text_column] is None
                    else str(row[text_column]).strip(),
                }
            )
    if not rows:
        raise DatasetBuildError(f"{where}: no rows in split(s) {', '.join(splits)}")
    names = [row["name"] for row in rows]
    by_name = None not in names and len(set(names)) == len(names)
    listed = [
        Listed(
            speaker_id=row["speaker_id"],
            utterance_id=row["name"] if by_name else f"{row['split']}-{row['index']:07d}",
            path=row["path"],
            text=row["text"],
            source_split=None if options.source_split is not None else row["split"],
        )
        for row in rows
    ]
    utterances, rule = assign_splits(listed, options, where)
    is_local = Path(location).expanduser().exists()
    source = {
        "kind": "hf",
        "id": str(Path(location).expanduser().resolve()) if is_local else location,
        "hub_id": None if is_local else location,
        "config": options.source_config,
        "split": options.source_split,
        "license": source_license(declared, options, where),
        "columns": dict(zip(("audio", "speaker", "text"), columns)),
        "split_rule": rule,
    }
    return CorpusManifest(root.resolve(), utterances, source)


def prepare(location: str, source: SourceOptions, options: BuildOptions, cache_dir: Path) -> CorpusManifest:
    """The build's listing of ``hf:ID``: :func:`prepare_hf_dataset` of ``location``, its audio written
    under ``cache_dir``."""
    return prepare_hf_dataset(location, source, cache_dir)


#: The manifest :func:`prepare` returns (a launched build's other processes read it back from JSON).
MANIFEST = CorpusManifest
