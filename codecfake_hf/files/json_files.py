"""Reading the JSON files the project writes (``progress.json``, ``training_config.json``,
``build_report.json``, a launched build's corpus list, an import's part records): one reader, one
ladder of errors.

A file the project wrote can still be missing (a killed run), truncated, not text, or not the kind of
value expected (another program's file of the same name); each case is one line naming the file, what
is wrong and the fix, raised as the caller's own error class so that it reaches the user the way the
caller's other errors do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from codecfake_hf.errors import CodecFakeError, InputFileError


def read_json(
    path: str | os.PathLike,
    fix: str,
    error: type[CodecFakeError] = InputFileError,
    expected: type = dict,
):
    """The JSON value in ``path``, which must be an ``expected`` (a JSON object by default).

    Args:
        fix: what the user should do, appended to every message ("rerun `codecfake build` ...").
        error: the exception class to raise (a :class:`~codecfake_hf.errors.CodecFakeError`).

    Raises:
        error: ``path`` is missing ("missing"), not readable text or not JSON ("not valid JSON"), or holds
            another kind of value ("expected a JSON object, found a list").
    """
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: missing; {fix}") from None
    except (OSError, ValueError) as failure:  # unreadable, not text, not JSON
        raise error(f"{path}: not valid JSON ({type(failure).__name__}); {fix}") from None
    if not isinstance(value, expected):
        wanted = {dict: "a JSON object", list: "a JSON list"}.get(expected, expected.__name__)
        found = {dict: "an object", list: "a list"}.get(type(value), f"a {type(value).__name__}")
        raise error(f"{path}: expected {wanted}, found {found}; {fix}")
    return value
