"""The processes one build runs on: this one alone (``codecfake build``), or every process of every
machine that ``accelerate launch -m codecfake_cli build ...`` started (:class:`BuildProcesses`).

A launched build shares its work out by shard. Item ``i`` of the build's plan (every config's non-empty
shards, bona fide first, then the codecs in the order given, each config's shards in split and index
order) goes to global rank ``i mod world size``; each process runs its shards on its local GPU
(``--device cuda``: ``cuda:<local rank mod GPUs>``) or on the CPU and writes them into the shared output
folder. A shard's content depends only on its sources, its codec and the kernels that ran it, never on which
process or how many there are. Every shard is a fingerprinted parquet file written through an atomic
rename, so a relaunch after a lost process or machine redoes only the shards that are missing.

Around the shards, the processes meet at barriers (Accelerate's, on the launch's process group): all
have looked at the output folder before anything is written; the main process lists the source corpus
and checks its audio first, writing the list (``.build/corpus.json``) and the check's cache that the
others then read; each machine's first process fetches the codec checkpoints before the others look
for them; and the main process writes ``build_report.json`` and the card once every process has
written its shards, after checking that every planned shard is in the output folder with its planned
rows (:func:`~dataset_builder.build.check_planned_shards`): a launch whose ``--out`` is a local folder on
each machine fails there, naming the missing shards, and publishes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from codecfake_hf.errors import ProcessError
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.files.json_files import read_json
from dataset_builder import DatasetBuildError
from dataset_builder.build_options import BuildOptions

#: How long a process waits at a barrier for the others. Long: the others wait while the main process
#: decodes the whole source corpus once, and at the end everyone waits for the slowest process. A process
#: that dies is noticed by the launcher, which stops the others, not by this timeout.
BARRIER_TIMEOUT = timedelta(hours=24)

Item = TypeVar("Item")


class ProcessBuildError(ProcessError, DatasetBuildError):
    """A build error met in one process's own shards; the message names the process, which reports it."""


def rank_device(device: str, rank: int | None) -> str:
    """The torch device of process (or ``map`` worker) ``rank``: ``cuda:<rank mod #GPUs>`` for a bare
    "cuda", else ``device`` as given."""
    if device == "cuda" and rank is not None:
        import torch

        return f"cuda:{rank % max(1, torch.cuda.device_count())}"
    return device


@dataclass(frozen=True)
class BuildProcesses:
    """Where this process stands in its build: global ``rank`` of ``world`` processes, ``local_rank`` on
    its machine (all 0 / 1 / 0 for a build that was not launched).

    ``state`` is Accelerate's ``PartialState`` of a launched build (its process group), None otherwise.
    """

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    state: Any = None

    @classmethod
    def current(cls) -> BuildProcesses:
        """This process's place: from the launch (``WORLD_SIZE`` > 1, as ``accelerate launch`` and
        ``torchrun`` set it), joining its process group; else a single process."""
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return cls()
        from accelerate import PartialState

        # cpu=True: the process group runs over gloo (TCP) on GPU machines too; the build needs only its
        # barriers, and its codecs pick their own device (own_options)
        state = PartialState(cpu=True, timeout=BARRIER_TIMEOUT)
        return cls(state.process_index, state.num_processes, state.local_process_index, state)

    @property
    def is_main(self) -> bool:
        """Whether this is global rank 0 (it writes the card and the report)."""
        return self.rank == 0

    @property
    def is_local_main(self) -> bool:
        """Whether this is the first process of its machine (it shows the progress bars)."""
        return self.local_rank == 0

    def share(self, items: Sequence[Item]) -> list[Item]:
        """The items of ``items`` this process does: those at positions ``i`` with ``i mod world == rank``."""
        return list(items[self.rank :: self.world])

    def own_options(self, options: BuildOptions) -> BuildOptions:
        """``options`` for this process: in a launched build, a bare ``--device cuda`` is its local GPU
        (``cuda:<local rank mod GPUs>``: processes share GPUs when a machine runs more of them than it has
        GPUs) and ``map`` runs in the process itself unless ``--num_proc`` says otherwise (the launch
        already gave each GPU, or group of cores, its process)."""
        if self.state is None:
            return options
        return dataclasses.replace(
            options, device=rank_device(options.device, self.local_rank), num_proc=options.num_proc or 1
        )

    @contextlib.contextmanager
    def failure_named(self) -> Iterator[None]:
        """In a launched build, re-raise a build error of the block (this process's own shards, which no
        other process meets) as a :class:`ProcessBuildError` naming this process, so that it is reported."""
        try:
            yield
        except DatasetBuildError as error:
            if self.state is None:
                raise
            raise ProcessBuildError(f"process {self.rank} of {self.world}: {error}") from error

    def wait_for_everyone(self) -> None:
        """Return once every process has come here (at once when not launched)."""
        if self.state is not None:
            self.state.wait_for_everyone()

    @contextlib.contextmanager
    def main_first(self, local: bool = False) -> Iterator[None]:
        """Run the block in the main process (with ``local``: the first process of each machine), then in
        the others, which so find what it wrote (a cache, a download)."""
        if self.state is None:
            yield
            return
        first = self.state.local_main_process_first if local else self.state.main_process_first
        with first():
            yield

    def computed_once(self, path: Path, compute: Callable[[], Any]) -> Any:
        """``compute()``, a JSON value, computed by the main process alone (listing a corpus: a Hub
        dataset streamed or a Hub repo listed once, not once per process), which writes it to ``path``
        for the others of a launched build; every process returns the value as read back from JSON."""
        with self.main_first():
            if self.is_main:
                value = json.loads(json.dumps(compute()))
                if self.world > 1:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_path(path) as temporary:
                        temporary.write_text(json.dumps(value), encoding="utf-8")
                return value
            with self.failure_named():
                if not path.is_file():
                    raise DatasetBuildError(
                        f"{path}: not found, though the main process wrote it before this process looked: "
                        "--out must be one folder that every process of the launch reads and writes (the same "
                        "path on a shared file system), not a local folder per machine"
                    )
            return read_json(path, "relaunch the build", DatasetBuildError, expected=object)
