"""The output folder of ``codecfake build`` and ``codecfake import``: which folders they may write into
(never a foreign one by accident, never over a card you edited) and a full disk as a one-line error."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from dataset_builder import DatasetBuildError
from dataset_builder.build_report import REPORT_FILE, BuildReport, read_build_report
from dataset_builder.publishing import card_was_edited


def check_output_folder(out: str | os.PathLike, force: bool = False, regenerate_card: bool = False) -> None:
    """Refuse to build into a non-empty folder that is no CodecFake build (one holds
    ``build_report.json``, or the ``.build/`` cache a started build writes first), so that its
    README.md and data/ are never replaced by accident (``force`` overrides), and to replace a
    build's card that was edited since codecfake wrote it (``regenerate_card`` overrides).

    Raises:
        DatasetBuildError: ``out`` is a file, a foreign non-empty folder without ``force``, or a
            build whose README.md was edited, without ``regenerate_card``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DatasetBuildError(f"{out}: is a file; choose a folder for --out")
    if force or not out.is_dir() or not any(out.iterdir()):
        return
    if (out / REPORT_FILE).is_file() or (out / ".build").is_dir():
        if not regenerate_card and card_was_edited(out, earlier_report(out)):
            raise DatasetBuildError(
                f"{out / 'README.md'}: edited since codecfake wrote it, and the build rewrites the card (it "
                "lists every config); nothing was changed: keep a copy of your edits, then pass --write-card"
            )
        return
    raise DatasetBuildError(
        f"{out}: not empty and not a CodecFake build (no build_report.json or .build/); choose an empty or "
        "new --out folder, or pass --force to build into it (its README.md and data/ may be replaced)"
    )


def earlier_report(out: Path) -> BuildReport | None:
    """The build report an earlier build left in ``out``, or None (none, or unreadable)."""
    try:
        return read_build_report(out)
    except (OSError, DatasetBuildError):
        return None


@contextlib.contextmanager
def disk_full_is_a_build_error(out: Path) -> Iterator[None]:
    """Turn a full disk (or quota, or file size limit) while building into a :class:`DatasetBuildError`
    that says what to do; the failed step has already removed what it was writing."""
    try:
        yield
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        raise DatasetBuildError(
            f"{out}: cannot write ({error.strerror}); free disk space, or build into another --out, and "
            "rerun the same command: finished shards are kept"
        ) from error
