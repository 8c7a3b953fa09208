"""The one markdown-table writer: cards, the dataset card, the taxonomy, the command line and the
benchmarks all print their tables with :func:`markdown_table`."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The rule under a header cell, per alignment.
_RULES = {"left": "---", "right": "---:"}


def markdown_table(
    data: pd.DataFrame | Iterable[Sequence],
    headers: Sequence | None = None,
    *,
    float_format: str | None = None,
    align: Sequence[str] | None = None,
) -> str:
    """A GitHub markdown table.

    Args:
        data: a DataFrame (its columns are the header; its index comes first when it is named), or
            rows, each a sequence of cells.
        headers: the column names; required with rows, taken from the DataFrame otherwise.
        float_format: format of float cells (``"{:.2f}"``); None: ``str(value)``. A NaN cell is empty.
        align: ``"left"`` or ``"right"`` per column (default: every column left).

    Returns:
        The lines of the table joined by newlines (no trailing newline). Cells are ``str()`` of the
        values, with ``|`` escaped so that it stays inside its cell.
    """
    pandas = sys.modules.get("pandas")  # without pandas loaded, ``data`` is no DataFrame (no import)
    if pandas is not None and isinstance(data, pandas.DataFrame):
        if headers is not None:
            raise ValueError("markdown_table: a DataFrame brings its own headers (its columns)")
        frame = data.reset_index() if data.index.name is not None else data
        headers, data = frame.columns, frame.itertuples(index=False)
    elif headers is None:
        raise ValueError("markdown_table: pass the headers with rows of cells")

    def cell(value) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return ""
            return str(value) if float_format is None else float_format.format(value)
        return str(value).replace("|", "\\|")

    rules = [_RULES[side] for side in (align or ["left"] * len(headers))]
    lines = ["| " + " | ".join(cell(name) for name in headers) + " |", "|" + "|".join(rules) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in data]
    return "\n".join(lines)
