"""The build cache's primitives: the version and fingerprints every cached step and shard is keyed on,
and the scratch folder a step removes when it fails."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

#: Part of every fingerprint: raise it when the output of a build step changes for the same inputs.
#: Also written to ``build_report.json``; a folder built by another version is rebuilt by
#: ``codecfake build`` and refused by the commands that read it. 2: the taxonomy columns.
BUILD_VERSION = 2


def cache_key(payload: object) -> str:
    """16 hex digits of the SHA-256 of ``payload`` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def source_stamp(path: str) -> str:
    """Size and modification time of a source file: part of every fingerprint that reads it."""
    stat = os.stat(path)
    return f"{stat.st_size}-{stat.st_mtime_ns}"


@contextlib.contextmanager
def removed_on_failure(folder: Path) -> Iterator[Path]:
    """Yield ``folder`` (created) as the scratch space of one step (a ``map`` cache and the temporary
    files ``datasets`` writes next to it); if the step fails, the folder is deleted with everything in
    it (``datasets`` leaves its temporary file behind when the disk is full)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
