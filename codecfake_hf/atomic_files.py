"""Writing a file so that it is either complete or absent: no reader ever sees half of it.

Every file the project defines (parquet shards, ``build_report.json``, dataset and model cards,
``training_config.json``, a checkpoint's ``progress.json``, ``evaluate``'s ``scores_<set>.csv`` and
``eer.csv``) is written through :func:`atomic_path`: into ``<name>.tmp`` next to it, synced to disk,
then renamed over the target, which the operating system does in one step. A full disk, an error or
Ctrl-C while writing removes the ``.tmp`` file and leaves an earlier version of the target as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield ``<path>.tmp`` to write; when the block succeeds it is synced to disk and renamed to
    ``path`` (atomically), when it fails (a full disk, an error, Ctrl-C) it is deleted.

    The block must create the temporary file; the folder of ``path`` must exist.
    """
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    try:
        yield temporary
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
