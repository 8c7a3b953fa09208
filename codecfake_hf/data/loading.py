"""Labelled audio for detectors: CodecFake configs, any Hub/local dataset, or a folder of files.

Every source becomes a ``datasets.Dataset`` with the same columns:

- ``audio``: ``Audio(decode=False)`` (``{"bytes", "path"}``; decoded by :func:`load_waveform`),
- ``label``: int, 1 = bona fide, 0 = spoof (the paper's and AASIST's convention),
- ``utterance_id``: str, ``codec``: str (subset id, "bonafide", or the folder name).

Audio is decoded with soundfile and resampled with ``codecfake_hf.audio.resample`` (not by
``datasets``/torchcodec), so bona fide and spoof audio always take the same path to the model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from datasets import Audio, ClassLabel, Dataset, DatasetDict, load_dataset, load_from_disk

from codecfake_hf.audio.audio_folder import list_audio_folder
from codecfake_hf.audio.audio_io import (
    read_audio_value,
    require_resampled,
    resample,
)
from codecfake_hf.data.dataset_card import DEFAULT_CONFIG, card_configs, config_split_patterns, read_card
from codecfake_hf.data.labels import BONAFIDE, BONAFIDE_NAMES, LABEL2ID, LABEL_NAMES, SPOOF
from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.sources import SourceNotFoundError, check_dataset_source, no_such_folder


class DatasetError(CodecFakeError, ValueError):
    """A dataset lacks the config, split, columns or labels asked for, or does not load."""


def is_label_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder with ``bonafide/`` and ``spoof/`` subfolders."""
    path = Path(path)
    return all((path / name).is_dir() for name in LABEL_NAMES)


def check_label_folder(path: str | os.PathLike) -> None:
    """Refuse a folder that holds one of ``bonafide/`` and ``spoof/`` but not the other: it is meant as
    a labelled folder (:func:`is_label_folder`), and its trials would be of one class only.

    Raises:
        InputFileError: names the folder that is missing.
    """
    path = Path(path)
    present = [name for name in LABEL_NAMES if (path / name).is_dir()]
    if len(present) == 1:
        (missing,) = [name for name in LABEL_NAMES if name not in present]
        raise InputFileError(
            f"{path}: has {present[0]}/ but no {missing}/ folder, so no {missing} trials; EERs and calibration "
            f"need both classes: put {missing} audio in {path / missing}/"
        )


def folder_dataset(path: str | os.PathLike) -> Dataset:
    """A folder with ``bonafide/`` and ``spoof/`` subfolders (searched recursively,
    :func:`~codecfake_hf.audio.audio_folder.list_audio_folder`) as a dataset.

    This is how users bring zero-shot sets (VALL-E, VALL-E X, SpeechX samples, ...).
    ``codec`` is "bonafide" or "spoof"; ``utterance_id`` is the path relative to ``path``.
    """
    listing = list_audio_folder(path, labels=(LABEL_NAMES[BONAFIDE], LABEL_NAMES[SPOOF]))
    rows = {
        "audio": [str(file.path) for file in listing.files],
        "label": [LABEL2ID[file.fields["label"]] for file in listing.files],
        "utterance_id": [file.name for file in listing.files],
        "codec": [file.fields["label"] for file in listing.files],
    }
    return Dataset.from_dict(rows).cast_column("audio", Audio(decode=False))


def _label_to_int(dataset: Dataset, label_column: str) -> Dataset:
    feature = dataset.features[label_column]
    if isinstance(feature, ClassLabel):
        bonafide_ids = {i for i, name in enumerate(feature.names) if name.lower() in BONAFIDE_NAMES}
        if not bonafide_ids:
            raise DatasetError(
                f"label names {feature.names} have no bona fide name ({sorted(BONAFIDE_NAMES)})"
            )
        return dataset.map(
            lambda batch: {"label": [int(v in bonafide_ids) for v in batch[label_column]]},
            batched=True,
            desc="mapping labels",
        )
    if feature.dtype == "string":
        return dataset.map(
            lambda batch: {"label": [int(str(v).lower() in BONAFIDE_NAMES) for v in batch[label_column]]},
            batched=True,
            desc="mapping labels",
        )
    values = set(dataset.unique(label_column))
    if not values <= {0, 1}:
        raise DatasetError(f"integer labels must be 1 (bona fide) or 0 (spoof); found {sorted(values)}")
    return dataset if label_column == "label" else dataset.rename_column(label_column, "label")


def dataset_config_names(source: str | os.PathLike) -> list[str]:
    """The config names of a local Hub-layout folder (its dataset card) or of a Hub dataset.

    Raises:
        SourceNotFoundError: no such folder or Hub repo; DatasetError: the names cannot be read.
    """
    card = read_card(source)
    if card is not None and card_configs(card):
        return list(card_configs(card))
    check_dataset_source(source)
    from datasets import get_dataset_config_names

    try:
        return list(get_dataset_config_names(str(source)))
    except (ConnectionError, FileNotFoundError, ValueError) as error:
        raise _load_failure(source, "list its configs", error) from error


def _load_failure(source: str | os.PathLike, action: str, error: Exception) -> CodecFakeError:
    """The one-line error for ``datasets`` failing to ``action`` on ``source``."""
    from huggingface_hub import is_offline_mode

    reason = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
    if Path(source).expanduser().exists():
        return DatasetError(f"{source}: cannot {action} ({reason})")
    offline = ", HF_HUB_OFFLINE is set and it is not in the local cache" if is_offline_mode() else ""
    return SourceNotFoundError(
        f"{no_such_folder(str(source), 'dataset')}, and the Hub dataset {source} could not be used{offline} "
        f"({reason}); check the path, or build the dataset with `codecfake build`"
    )


def local_config_files(source: str | os.PathLike, config: str | None, split: str) -> list[str] | None:
    """The parquet files of ``config``/``split`` of a local Hub-layout folder (the ``configs:`` of
    its dataset card, read by :mod:`codecfake_hf.data.dataset_card`; ``config=None`` is the default
    config), as absolute paths; None when ``source`` is not such a folder.

    Loading these files explicitly keys the ``datasets`` cache on their paths and modification
    times: ``load_dataset(folder, config)`` (datasets 5.2) keys it on the folder name and config only,
    so a rebuilt folder, or another folder of the same name, would silently load stale rows.

    Raises:
        DatasetError: the folder has no such config, or the config no such split.
        InputFileError: the config's files are missing.
    """
    root = Path(source)
    card = read_card(root)
    if card is None or not card_configs(card):
        return None
    name = config or DEFAULT_CONFIG
    try:
        patterns = config_split_patterns(card, name, split)
    except ValueError as error:
        raise DatasetError(f"{root}: {error}") from None
    if patterns is None:
        names = ", ".join(card_configs(card))
        raise DatasetError(
            f"{root}: no config {name!r} in this dataset (its configs: {names}); build it with "
            f"`codecfake build --subsets {name}` (a subset) or `codecfake mixtures {root} --add {name}=...` "
            "(a mixture of subsets), or choose one of those"
        )
    files = sorted({str(p.resolve()) for pattern in patterns for p in root.glob(pattern)})
    if not files:
        raise InputFileError(f"{root}: config {name!r} split {split!r} matches no files")
    return files


def load_labelled_dataset(
    source: str | os.PathLike,
    config: str | None = None,
    split: str = "test",
    audio_column: str = "audio",
    label_column: str = "label",
) -> Dataset:
    """Load labelled audio with the columns described in the module docstring.

    Args:
        source: a folder with ``bonafide/`` and ``spoof/`` subfolders, a local dataset folder
            (e.g. the built ``codecfake``, or one written by ``save_to_disk``), or a Hub dataset id.
        config: dataset config (CodecFake subset id, or a mixture such as ``all``); ignored for
            label folders.
        split: split to load; ignored for label folders.
        audio_column, label_column: column names in a foreign dataset.
    """
    if is_label_folder(source):
        return folder_dataset(source)
    local_files = local_config_files(source, config, split)
    if (Path(source) / "state.json").is_file() or (Path(source) / "dataset_dict.json").is_file():
        dataset = load_from_disk(str(source))
        dataset = dataset[split] if isinstance(dataset, DatasetDict) else dataset
    elif local_files is not None:
        dataset = load_dataset("parquet", data_files={split: local_files}, split=split)
    else:
        check_dataset_source(source)
        try:
            dataset = load_dataset(str(source), config, split=split)
        except (ConnectionError, FileNotFoundError, ValueError) as error:  # offline, no such config/split
            raise _load_failure(source, f"load config {config!r} split {split!r}", error) from error
    for column in (audio_column, label_column):
        if column not in dataset.column_names:
            raise DatasetError(f"{source}: no column {column!r}; columns are {dataset.column_names}")
    if audio_column != "audio":
        dataset = dataset.rename_column(audio_column, "audio")
    dataset = _label_to_int(dataset, label_column).cast_column("audio", Audio(decode=False))
    if "utterance_id" not in dataset.column_names:
        dataset = dataset.add_column("utterance_id", [str(i) for i in range(len(dataset))])
    if "codec" not in dataset.column_names:
        dataset = dataset.add_column("codec", [LABEL_NAMES[v] for v in dataset["label"]])
    keep = ["audio", "label", "utterance_id", "codec"]
    return dataset.select_columns(keep)


def load_waveform(
    audio: dict, sampling_rate: int | None = 16000, name: str | None = None, resampler: str = "soxr"
) -> np.ndarray:
    """Decode one ``Audio(decode=False)`` value (``{"bytes", "path"}``) to mono float32 ``[T]`` at
    ``sampling_rate`` Hz (:func:`read_audio_value`, then ``codecfake_hf.audio.resample`` with
    ``resampler``, one of ``codecfake_hf.audio.audio_io.RESAMPLERS``); ``sampling_rate=None`` keeps the file's own
    rate (nothing resampled)."""
    source = name or audio.get("path") or "<embedded audio>"
    waveform, rate = read_audio_value(audio, name)
    if sampling_rate is None:
        return waveform
    resampled = resample(waveform, rate, sampling_rate, resampler)
    require_resampled(waveform.shape[0], resampled.shape[0], rate, sampling_rate, source)
    return resampled
