"""Which trained detectors are seed replicas of one training, read from the ``training_config.json``
that training saves beside each model: the row a detector gets in a matrix, the rows of replicas
(``train.py --seeds``) and the EER statistics over them (``codecfake matrix``).

Training's own knowledge (which options change what a run learns), so it lives here and evaluation,
which training calls to calibrate, never reads a training config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

import pandas as pd

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.training.config import TrainingConfig


def model_row_name(path: str | os.PathLike) -> str:
    """Row label of a detector folder: the CodecFake config it was trained on (from the
    ``training_config.json`` that training saves next to the weights), else the folder name."""
    training = TrainingConfig.load(path)
    return training.subset if training is not None else Path(path).name


#: Options that do not change what a run learns (a resumed run repeats the uninterrupted one):
#: trained models whose options differ only in these are seed replicas of one training.
REPLICA_OPTIONS = ("seed", "output_dir", "resume")


def seed_replica_rows(named_models: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Rows of a matrix from ``(row name, model path)`` pairs: ``{row name: {run name: path}}``.

    A name given once is one run named like its row. Models that share a name must be seed replicas
    (``train.py --seeds``: ``training_config.json`` equal but for :data:`REPLICA_OPTIONS`, each
    with another seed); their runs are named ``<row>/seed-<n>`` and :func:`seed_statistics` averages them.

    Raises:
        CodecFakeError: one model given twice (the same folder, however it is written, or Hub id);
            models sharing a name that are not replicas (another recipe or option, no
            ``training_config.json``, one seed): names the two paths and asks for NAME=PATH.
    """
    given: dict[object, str] = {}
    for _, path in named_models:
        local = Path(path).expanduser()
        key = local.resolve() if local.exists() else path
        if key in given:
            spelled = "" if given[key] == path else f" (as {given[key]} and as {path})"
            raise CodecFakeError(f"{path}: one model given twice{spelled}; list each model once")
        given[key] = path
    paths_by_name: dict[str, list[str]] = {}
    for name, path in named_models:
        paths_by_name.setdefault(name, []).append(path)
    rows = {}
    for name, paths in paths_by_name.items():
        if len(paths) == 1:
            rows[name] = {name: paths[0]}
            continue
        configs = [TrainingConfig.load(path) for path in paths]
        for (index, path), config in zip(enumerate(paths), configs):
            for earlier, earlier_config in zip(paths[:index], configs[:index]):
                problem = _not_replicas(earlier_config, config)
                if problem:
                    raise CodecFakeError(
                        f"{earlier} and {path} would both be named {name!r} (one row), but they are not seed "
                        f"replicas of one training ({problem}); name each one as NAME=PATH, e.g. "
                        f"'{name}-1={earlier}' '{name}-2={path}'"
                    )
        rows[name] = {f"{name}/seed-{config.seed}": path for config, path in zip(configs, paths)}
    return rows


def _not_replicas(first: TrainingConfig | None, second: TrainingConfig | None) -> str | None:
    """Why two runs are not seed replicas of one training, or None if they are."""
    if first is None or second is None:
        return "one has no training_config.json"
    differing = [
        field.name
        for field in fields(TrainingConfig)
        if field.name not in REPLICA_OPTIONS and getattr(first, field.name) != getattr(second, field.name)
    ]
    if differing:
        return f"they differ in {', '.join(differing)}"
    return f"both were trained with seed {first.seed}" if first.seed == second.seed else None


def seed_statistics(
    rows: Mapping[str, Mapping[str, str]], eers: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """The EER of each (row, test set) cell over a row's runs (:func:`seed_replica_rows`).

    Args:
        rows: ``{row name: {run name: path}}``.
        eers: ``{run name: {test set: EER fraction}}``.

    Returns:
        One line per cell: ``train`` (row), ``test``, ``n`` (runs), ``mean`` and ``sd`` (sample
        standard deviation, ddof 1; NaN for one run), EER as fractions.
    """
    records = []
    for row, runs in rows.items():
        tests = list(dict.fromkeys(test for run in runs for test in eers[run]))
        for test in tests:
            values = pd.Series([eers[run][test] for run in runs if test in eers[run]], dtype=float)
            records.append(
                {
                    "train": row,
                    "test": test,
                    "n": len(values),
                    "mean": values.mean(),
                    "sd": values.std(ddof=1),
                }
            )
    return pd.DataFrame.from_records(records, columns=["train", "test", "n", "mean", "sd"])
