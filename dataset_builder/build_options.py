"""How to build the dataset (:class:`BuildOptions`): the one place where each build option, its
default and its description live.

``codecfake build`` turns every field into a flag with ``transformers.HfArgumentParser`` (its help is
the field's ``metadata["help"]``); library callers pass the same options to
:func:`dataset_builder.build.build_codecfake`. This module imports nothing heavy, so the command
line can build its parser without loading torch or datasets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BuildOptions:
    """How to build; each field's ``help`` says what it does (``codecfake build --help``)."""

    tiny: bool = field(
        default=False,
        metadata={"help": "tiny random-weight codecs (tests, offline demos) instead of the official weights"},
    )
    device: str = field(
        default="cpu",
        metadata={
            "help": "cpu or cuda; with cuda and several map processes, map rank r runs on cuda:r; under "
            "accelerate launch, each process on its local GPU"
        },
    )
    num_proc: int | None = field(
        default=None,
        metadata={"help": "processes per datasets.map; None: the number of GPUs with cuda, else 1"},
    )
    batch_size: int = field(
        default=16, metadata={"help": "utterances per codec forward pass (grouped by length, padded)"}
    )
    shard_size: int = field(
        default=1000,
        metadata={"help": "utterances per parquet shard (also what a resumed build redoes at most)"},
    )
    mic: str = field(default="mic1", metadata={"help": "VCTK 0.92 microphone", "choices": ("mic1", "mic2")})
    writer_batch_size: int = field(
        default=100, metadata={"help": "rows datasets.map buffers before writing its cache (bounds memory)"}
    )
    checkpoint_dir: str | None = field(
        default=None,
        metadata={
            "help": "folder with one subfolder per codec id holding its checkpoint files (DIR/E/config.json, "
            "...); None: the Hub cache"
        },
    )
    codec_revision: list[str] = field(
        default_factory=list,
        metadata={
            "help": "ID=REVISION (one or more): download codec ID's weights at this Hub branch, tag or commit "
            "(E=main: the newest upload) instead of the commit the registry pins"
        },
    )

    def codec_dir(self, codec_id: str) -> str | None:
        """The folder holding ``codec_id``'s checkpoint files, None for the Hub cache."""
        return None if self.checkpoint_dir is None else str(Path(self.checkpoint_dir) / codec_id)

    def codec_revisions(self) -> dict[str, str]:
        """``{codec id: revision}`` of ``codec_revision``.

        Raises:
            DatasetBuildError: an entry is not ``ID=REVISION`` or names no codec.
        """
        from codecfake_hf.codecs.registry import get_spec
        from dataset_builder import DatasetBuildError

        revisions = {}
        for entry in self.codec_revision:
            subset, _, revision = entry.partition("=")
            if not revision.strip():
                raise DatasetBuildError(
                    f"--codec-revision {entry}: write ID=REVISION, e.g. E=main or E=<40-digit commit>"
                )
            try:
                revisions[get_spec(subset).id] = revision.strip()
            except KeyError as error:
                raise DatasetBuildError(f"--codec-revision {entry}: {error}") from None
        return revisions

    def check_codec_revisions(self, subsets: list[str]) -> None:
        """Refuse a ``codec_revision`` entry that is malformed or names a codec not among ``subsets`` (those
        built).

        Raises:
            DatasetBuildError: names the entry and the codecs being built.
        """
        from dataset_builder import DatasetBuildError

        for codec_id in self.codec_revisions():
            if codec_id not in subsets:
                raise DatasetBuildError(
                    f"--codec-revision {codec_id}=...: {codec_id} is not built here (subsets: "
                    f"{', '.join(subsets) or 'none'}); drop it or add {codec_id} to --subsets"
                )

    def weights_revision(self, codec_id: str) -> str | None:
        """The Hub revision ``codec_id``'s weights are downloaded at: its ``codec_revision`` entry, else
        the registry's pin (``CodecSpec.revision``; None: not pinned). None also for tiny codecs and with
        ``checkpoint_dir``, which download nothing."""
        from codecfake_hf.codecs.registry import get_spec

        if self.tiny or self.checkpoint_dir is not None:
            return None
        return self.codec_revisions().get(codec_id, get_spec(codec_id).revision)

    def processes(self) -> int:
        """The ``num_proc`` to use (>= 1)."""
        if self.num_proc is not None:
            return max(1, int(self.num_proc))
        if self.device.startswith("cuda"):
            import torch

            return max(1, torch.cuda.device_count())
        return 1

    def threads_per_process(self) -> int | None:
        """Torch threads for each of several worker processes: the cores shared out (>= 1), so
        that the workers' thread pools do not oversubscribe the machine (a tiny LSTM ran 1,800x
        slower with 2 threads on 2 busy cores than with 1). None with a single process: torch's
        default."""
        processes = self.processes()
        return max(1, (os.cpu_count() or 1) // processes) if processes > 1 else None

    def map_num_proc(self, rows: int) -> int | None:
        """``num_proc`` for a ``map`` over ``rows`` rows (None: in this process)."""
        processes = min(self.processes(), rows)
        return processes if processes > 1 else None
