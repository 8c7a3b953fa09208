"""The one markdown-table writer: rows or a DataFrame, alignment, float cells."""

from __future__ import annotations

import pandas as pd
import pytest

from codecfake_hf.markdown import markdown_table


def test_rows_with_headers_and_right_aligned_columns():
    table = markdown_table([["E", 16000, 6.0], ["A", 24000, float("nan")]], ["id", "rate", "kbps"],
                           align=["left", "right", "right"])  # fmt: skip
    assert table.splitlines() == [
        "| id | rate | kbps |",
        "|---|---:|---:|",
        "| E | 16000 | 6.0 |",
        "| A | 24000 |  |",
    ]


def test_a_named_index_becomes_the_first_column_and_floats_take_the_format():
    frame = pd.DataFrame({"eer": [0.5, 1.0 / 3]}, index=pd.Index(["E", "A"], name="codec"))
    assert markdown_table(frame, float_format="{:.2f}").splitlines() == [
        "| codec | eer |", "|---|---|", "| E | 0.50 |", "| A | 0.33 |",
    ]  # fmt: skip


def test_headers_come_with_rows_and_only_with_rows():
    with pytest.raises(ValueError, match="pass the headers"):
        markdown_table([["E", 1]])
    with pytest.raises(ValueError, match="its own headers"):
        markdown_table(pd.DataFrame({"a": [1]}), "{:.2f}")  # a float format passed as headers
