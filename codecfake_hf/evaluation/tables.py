"""The paper's result tables (shipped as package data) and ours in the same shape.

- Figure 2, the cross-test matrix: EER (%) of a detector trained on one subset (row) tested on each
  CodecFake test subset (column); the first two rows are the ASVspoof 2019 baselines.
- Table 3, zero-shot: EER (%) on codec-based TTS systems (rows) per training set (columns).

Our matrices use the same orientation and labels, so :func:`side_by_side` lines them up cell by
cell with the published numbers. All EERs here are percentages (the library's ``compute_eer``
returns fractions; :func:`eer_matrix` converts).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

#: Row labels of the two ASVspoof 2019 baselines, as in the paper's tables.
BASELINE_ROWS = ("AASIST(ASVspoof2019)", "AASIST-L(ASVspoof2019)")


def _read(name: str, index: str) -> pd.DataFrame:
    with resources.files("codecfake_hf.paper_data").joinpath(name).open() as handle:
        return pd.read_csv(handle, index_col=index)


def paper_cross_test() -> pd.DataFrame:
    """Figure 2: EER (%) indexed by training row (``train``), columns = test subsets A..F6."""
    return _read("figure2_cross_test_eer.csv", "train")


def paper_zero_shot() -> pd.DataFrame:
    """Table 3: EER (%) indexed by zero-shot test source, columns = training sets."""
    return _read("table3_zero_shot_eer.csv", "test_source")


def paper_codecs() -> pd.DataFrame:
    """Table 1: the 15 codec models, indexed by subset id."""
    return _read("table1_codecs.csv", "subset")


def eer_matrix(eers: Mapping[str, Mapping[str, float]], index_name: str = "train") -> pd.DataFrame:
    """Nested ``{row: {column: eer_fraction}}`` -> DataFrame of EER (%) with ordered rows/columns.

    Rows and columns that the paper has come in the paper's order (baselines, then A..F6), others
    after them in the order given. Missing cells are NaN.
    """
    reference = paper_cross_test()
    rows = list(eers)
    columns = list(dict.fromkeys(column for row in eers.values() for column in row))

    def ordered(labels: list[str], known: list[str]) -> list[str]:
        return [label for label in known if label in labels] + [
            label for label in labels if label not in known
        ]

    frame = pd.DataFrame(
        {column: [100.0 * eers[row].get(column, float("nan")) for row in rows] for column in columns},
        index=pd.Index(rows, name=index_name),
    )
    return frame.loc[ordered(rows, list(reference.index)), ordered(columns, list(reference.columns))]


def side_by_side(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Long table of the cells both matrices have: ``row, column, ours, paper, difference`` (%)."""
    records = [
        {"row": row, "column": column, "ours": ours.at[row, column], "paper": paper.at[row, column]}
        for row in ours.index
        if row in paper.index
        for column in ours.columns
        if column in paper.columns and pd.notna(ours.at[row, column])
    ]
    table = pd.DataFrame.from_records(records, columns=["row", "column", "ours", "paper"])
    table["difference"] = table["ours"] - table["paper"]
    return table


def plot_matrix(matrix: pd.DataFrame, path: str | Path, title: str = "Cross-test EER (%)") -> Path:
    """Render an EER (%) matrix as an annotated heatmap PNG in the style of the paper's Figure 2
    (rows: training set, columns: test subset; darker = lower EER = better)."""
    import matplotlib.pyplot as plt

    figure = matrix_figure(matrix, title)
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def matrix_figure(matrix: pd.DataFrame, title: str = "Cross-test EER (%)"):
    """The heatmap of :func:`plot_matrix` as a ``matplotlib`` figure; it is widened when the title is
    wider than the matrix, so that the title is never cut off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = matrix.shape
    label_width = 0.09 * max(len(str(label)) for label in matrix.index)  # inches for the row labels
    figure, axes = plt.subplots(figsize=(2.5 + label_width + 0.62 * columns, 1.5 + 0.45 * rows))
    image = axes.imshow(
        matrix.to_numpy(dtype=float), cmap="Blues_r", vmin=0, vmax=max(50.0, matrix.max().max())
    )
    long_labels = max(len(str(label)) for label in matrix.columns) > 4  # e.g. NAME/SUBSET of several datasets
    axes.set_xticks(range(columns), labels=list(matrix.columns), rotation=90 if long_labels else 0)
    axes.set_yticks(range(rows), labels=list(matrix.index))
    axes.set_xlabel("test subset")
    axes.set_ylabel(matrix.index.name or "train")
    axes.xaxis.set_label_position("top")
    axes.xaxis.tick_top()
    for row in range(rows):
        for column in range(columns):
            value = matrix.iat[row, column]
            if pd.notna(value):
                axes.text(
                    column,
                    row,
                    f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value < 25 else "black",
                )
    figure.colorbar(image, ax=axes, label="EER (%)", shrink=0.8)
    heading = figure.suptitle(title)
    title_width = heading.get_window_extent(figure.canvas.get_renderer()).width / figure.dpi + 0.3
    figure.set_figwidth(max(figure.get_figwidth(), title_width))  # inches, with a margin
    figure.tight_layout()
    return figure
