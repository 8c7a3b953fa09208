"""Writing a file so that it is either complete or absent: no reader ever sees half of it.

Every file the project defines (parquet shards, ``build_report.json``, dataset and model cards,
``training_config.json``, a checkpoint's ``progress.json``, ``evaluate``'s ``scores_<set>.csv`` and
``eer.csv``) is written through :func:`atomic_path`: into a temporary file of its own next to it,
``.<name>.<8 random hex digits>.tmp``, synced to disk, then renamed over the target, which the
operating system does in one step. A full disk, an error or Ctrl-C while writing removes that
temporary file and leaves an earlier version of the target as it was. The name is new for every
write (created exclusively), so two writers of one target never share a temporary file and a file of
the user's (``config.json.tmp``, say) is never written over or removed. A process that is killed
(SIGKILL, a power cut) leaves its temporary file behind; :func:`remove_leftovers` removes those of a
folder's targets where no other writer can be at work (the builder, once every process is done).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

#: The temporary file of target ``<name>``: ``.<name>.<8 hex digits>.tmp`` (group 1: the target's name).
TEMPORARY_NAME = re.compile(r"\.(.+)\.[0-9a-f]{8}\.tmp")
#: ``huggingface_hub`` ignore patterns of those temporary files in a folder and below it (an upload
#: leaves them out).
TEMPORARY_GLOBS = (".*.tmp", "**/.*.tmp")


def _create_temporary(path: Path) -> Path:
    """Create a new, empty temporary file for ``path`` in its folder and return its name. It is made
    as any new file is, mode 0o666 less the umask (``tempfile.mkstemp`` would make it 0o600)."""
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # another writer's, or a leftover: draw another name
            continue
        return temporary


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new temporary file next to ``path`` (empty; the block writes it, replacing its
    content); when the block succeeds it is synced to disk and renamed to ``path`` (atomically), when
    it fails (a full disk, an error, Ctrl-C) it is deleted. Nothing else is touched. A new file gets
    the mode any new file gets; a file that is replaced keeps its permissions.

    The folder of ``path`` must exist.
    """
    path = Path(path)
    temporary = _create_temporary(path)
    try:
        yield temporary
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):  # set once written: a read-only file is replaced too
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def leftovers(folder: str | os.PathLike, targets: Iterable[str] | None = None) -> list[Path]:
    """The temporary files :func:`atomic_path` made in ``folder`` (for the file names ``targets``,
    or for any target) that are still there: those of writers at work, or left by killed ones."""
    wanted = None if targets is None else set(targets)
    found = []
    for path in Path(folder).glob(".*.tmp"):
        match = TEMPORARY_NAME.fullmatch(path.name)
        if match and (wanted is None or match.group(1) in wanted) and path.is_file():
            found.append(path)
    return sorted(found)


def remove_leftovers(folder: str | os.PathLike, targets: Iterable[str] | None = None) -> None:
    """Remove :func:`leftovers` of killed writers; call it only where no other writer can be at work."""
    for path in leftovers(folder, targets):
        path.unlink(missing_ok=True)


def unused_name(path: str | os.PathLike) -> Path:
    """``path``, or ``path-2``, ``path-3``, ... whichever does not exist yet: where a file or folder the
    user has is set aside instead of being replaced or deleted."""
    path = Path(path)
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


@contextlib.contextmanager
def folder_kept_on_success(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield ``folder``, created with any missing parents; if the block fails (an error, Ctrl-C), the
    folders created here that are still empty are removed again, so that a failed command leaves no
    empty folder behind. A folder that existed before, or that holds anything, is never removed."""
    folder = Path(folder)
    created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        for path in created:
            try:
                path.rmdir()  # only an empty folder
            except OSError:
                break
        raise
