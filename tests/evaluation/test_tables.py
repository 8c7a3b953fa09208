import math

import numpy as np
import pandas as pd

from codecfake_hf.evaluation import tables


def test_paper_tables_are_shipped_and_match_the_paper(fixtures_dir):
    figure2 = tables.paper_cross_test()
    assert figure2.shape == (17, 15)
    assert list(figure2.index[:2]) == list(tables.BASELINE_ROWS)
    assert figure2.at["E", "E"] == 0.0 and figure2.at["D3", "F6"] == 79.07
    transcribed = pd.read_csv(fixtures_dir / "paper" / "figure2_cross_test_eer.csv", index_col="train")
    pd.testing.assert_frame_equal(figure2, transcribed)
    zero_shot = tables.paper_zero_shot()
    assert zero_shot.at["VALL-E", "E"] == 0.40
    assert list(tables.paper_codecs().index) == list(figure2.columns)


def test_eer_matrix_orders_like_the_paper_and_converts_to_percent():
    matrix = tables.eer_matrix(
        {"mine": {"E": 0.5}, "E": {"E": 0.0, "A": 0.35}, "AASIST-L(ASVspoof2019)": {"A": 0.4318}}
    )
    assert list(matrix.index) == ["AASIST-L(ASVspoof2019)", "E", "mine"]
    assert list(matrix.columns) == ["A", "E"]
    assert matrix.at["E", "A"] == 35.0 and matrix.at["mine", "E"] == 50.0
    assert math.isnan(matrix.at["mine", "A"])


def test_side_by_side_pairs_cells_with_the_paper():
    ours = tables.eer_matrix({"E": {"E": 0.01, "A": 0.35}, "new": {"E": 0.2}})
    table = tables.side_by_side(ours, tables.paper_cross_test())
    assert list(table["column"]) == ["A", "E"] and set(table["row"]) == {"E"}
    assert np.allclose(table["paper"], [35.23, 0.0])
    assert np.allclose(table["difference"], [35.0 - 35.23, 1.0])


def test_plot_matrix_writes_a_png(tmp_path):
    path = tables.plot_matrix(tables.paper_cross_test(), tmp_path / "matrix.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def visible_texts(figure) -> dict[str, bool]:
    """``{text: whether it lies wholly inside the figure}`` for every visible text of ``figure``,
    laid out again at the figure's own dpi."""
    from matplotlib.text import Text

    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    inside = {}
    for text in figure.findobj(Text):
        if text.get_text() and text.get_visible():
            extent = text.get_window_extent(renderer)
            inside[text.get_text()] = (
                0 <= extent.x0
                and extent.x1 <= figure.bbox.width
                and 0 <= extent.y0
                and extent.y1 <= figure.bbox.height
            )
    return inside


def test_plot_matrix_keeps_a_long_title_inside_the_figure(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    closed = []
    monkeypatch.setattr(plt, "close", closed.append)  # keep the figure plot_matrix draws
    matrix = tables.eer_matrix({row: {"E": 0.1, "D1": 0.3, "A": 0.4} for row in ("E", "D1", "A")})
    title = "demo cross-test EER (%), tiny random codecs"  # the demo's title
    tables.plot_matrix(matrix, tmp_path / "demo.png", title)
    (figure,) = closed
    texts = visible_texts(figure)
    assert title in texts
    assert all(texts.values()), texts
