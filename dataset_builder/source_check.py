"""The source check: every source file decoded once (a batched, cached ``datasets.map``) and the
manifest split into readable utterances and excluded ones (empty, corrupt, NaN/inf), which every config
then leaves out alike and the build report lists. Used by the build and by ``codecfake
vctk`` (so both count alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from codecfake_hf.audio.audio_io import AudioError, load_audio
from dataset_builder.build_cache import BUILD_VERSION, cache_key, removed_on_failure, source_stamp
from dataset_builder.build_options import BuildOptions


def check_sources(batch: dict[str, list]) -> dict[str, list]:
    """Batched ``map`` function: decode each ``path``; returns ``num_samples``, ``sample_rate``
    (Hz, 0 on failure) and ``error`` ("" when readable). The column keeps the name ``sample_rate``
    because a resumed build reads it back from the check cache an earlier build wrote."""
    result: dict[str, list] = {"num_samples": [], "sample_rate": [], "error": []}
    for path in batch["path"]:
        try:
            waveform, rate = load_audio(path)
        except AudioError as error:
            waveform, rate, message = np.zeros(0, np.float32), 0, str(error)
        else:
            message = ""
        result["num_samples"].append(len(waveform))
        result["sample_rate"].append(rate)
        result["error"].append(message)
    return result


@dataclass
class SourceCheck:
    """Result of :func:`check_sources`: readable rows (with ``split``, ``seconds``) and excluded ones."""

    rows: list[dict]
    excluded: list[dict]


def run_source_check(utterances: Sequence, cache_dir: Path, options: BuildOptions) -> SourceCheck:
    """Decode every source once (cached ``map``) and split ``utterances`` (objects with ``speaker_id``,
    ``utterance_id``, ``path``, ``text`` and ``split``, as a corpus manifest lists them) into readable and
    excluded ones."""
    rows = [
        {
            "speaker_id": u.speaker_id,
            "utterance_id": u.utterance_id,
            "path": u.path,
            "text": u.text,
            "split": u.split,
            "source": source_stamp(u.path),
        }
        for u in utterances
    ]
    key = cache_key([BUILD_VERSION, "check", [(r["path"], r["source"]) for r in rows]])
    with removed_on_failure(cache_dir / f"check-{key}") as scratch:
        checked = datasets.Dataset.from_list(rows).map(
            check_sources,
            batched=True,
            batch_size=64,
            num_proc=options.map_num_proc(len(rows)),
            cache_file_name=str(scratch / "check.arrow"),
            new_fingerprint=key,
            desc="checking the source audio",
        )
    readable, excluded = [], []
    for row, samples, rate, error in zip(
        rows, checked["num_samples"], checked["sample_rate"], checked["error"]
    ):
        if error:
            excluded.append(
                {k: row[k] for k in ("utterance_id", "speaker_id", "split", "path")} | {"error": error}
            )
        else:
            readable.append(row | {"seconds": samples / rate, "sample_rate": rate})
    return SourceCheck(readable, excluded)
