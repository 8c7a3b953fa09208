import pandas as pd
import pytest

from codecfake_hf.codecs import registry
from codecfake_hf.evaluation.taxonomy import group_by_taxonomy, taxonomy_frame, taxonomy_table
from codecfake_hf.markdown import markdown_table

RESULTS = {"A": 0.02, "e": 0.10, "F1": 0.06, "F3": 0.20, "mimi": 0.30, "wavtokenizer": 0.50}


def test_group_by_one_field_pools_mean_min_max_and_count():
    table = group_by_taxonomy(RESULTS, by="decoder_domain").set_index("decoder_domain")
    assert list(table.index) == ["frequency", "time"]
    assert table.loc["frequency", "mean_eer"] == pytest.approx(0.28)
    assert table.loc["frequency", "min_eer"] == pytest.approx(0.06)
    assert table.loc["frequency", "max_eer"] == pytest.approx(0.50)
    assert table.loc["frequency", "count"] == 2 and table.loc["time", "count"] == 4
    assert table.loc["time", "codecs"] == "A, E, F3, mimi"  # ids normalised to the registry's spelling
    assert table.loc["time", "mean_eer"] == pytest.approx((0.02 + 0.10 + 0.20 + 0.30) / 4)


@pytest.mark.parametrize("field", registry.TAXONOMY_FIELDS)
def test_every_taxonomy_field_partitions_the_results(field):
    table = group_by_taxonomy(RESULTS, by=field)
    assert table["count"].sum() == len(RESULTS)
    assert set(table[field]) == {getattr(registry.get_spec(i), field) for i in RESULTS}


def test_long_frame_keeps_extra_columns_as_keys_and_groups_by_several_fields():
    frame = pd.DataFrame(
        {
            "train": ["A", "A", "A", "E", "E", "E"],
            "codec": ["A", "mimi", "E", "A", "mimi", "E"],
            "eer": [0.0, 0.2, 0.4, 0.3, 0.1, 0.0],
        }
    )
    table = group_by_taxonomy(frame, by=["quantizer", "auxiliary"])
    assert list(table.columns[:3]) == ["train", "quantizer", "auxiliary"]
    semantic = table[(table["train"] == "A") & (table["auxiliary"] == "semantic distillation")].iloc[0]
    assert semantic["mean_eer"] == pytest.approx(0.1) and semantic["count"] == 2
    assert semantic["codecs"] == "A, mimi"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="taxonomy fields are family, quantizer"):
        group_by_taxonomy(RESULTS, by="colour")
    with pytest.raises(ValueError, match="missing \\['eer'\\]"):
        group_by_taxonomy(pd.DataFrame({"codec": ["A"], "score": [0.1]}))
    with pytest.raises(registry.UnknownCodecError, match="valid ids"):
        group_by_taxonomy({"Z9": 0.1})


def test_taxonomy_table_lists_every_registered_codec():
    table = taxonomy_table()
    lines = table.splitlines()
    assert lines[0].startswith("| codec | family | model | rate (Hz) |") and "quantizer" in lines[0]
    assert len(lines) == 2 + len(registry.CODECS)
    assert [line.split("|")[1].strip() for line in lines[2:]] == list(registry.CODECS)
    assert "| wavtokenizer | WavTokenizer |" in table and "| SVQ | none | frequency |" in table
    assert taxonomy_frame(["mimi"]).loc["mimi", "kbps"] == pytest.approx(1.1)


def test_markdown_table_escapes_pipes_and_formats_floats():
    frame = pd.DataFrame({"a|b": ["x|y"], "v": [0.125]})
    assert markdown_table(frame, float_format="{:.2f}").splitlines() == [
        "| a\\|b | v |",
        "|---|---|",
        "| x\\|y | 0.12 |",
    ]


def test_dataset_card_lists_the_taxonomy_of_the_built_subsets():
    from dataset_builder.corpus import SPLITS
    from dataset_builder.publishing import render_card

    split = {"utterances": 2, "speakers": ["p225"], "hours": 0.01, "paper_utterances": 2, "paper_speakers": 1}
    report = {
        "vctk": {"layout": "0.92", "mic": "mic1"},
        "tiny_codecs": True,
        "configs": ["bonafide", "E", "mimi"],
        "splits": {name: dict(split) for name in SPLITS},
        "excluded": [],
        "untranscribed": {"count": 0, "speakers": []},
        "build_version": 2,
        "mixtures": {},
    }
    card = str(render_card(report))
    section = card[card.index("### Codec taxonomy") : card.index("## Licences")]
    assert taxonomy_table(["E", "mimi"]) in section
    assert "| D1 |" not in section


def test_the_docs_show_the_registry_s_taxonomy_table():
    """The table of docs/evaluation.md is the registry's (licences included: E's is MIT since 2023-04-26)."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "evaluation.md").read_text(encoding="utf-8")
    assert taxonomy_table() in page


def test_cross_test_matrix_is_pooled_per_training_row():
    from codecfake_hf.evaluation.tables import paper_cross_test

    matrix = paper_cross_test()
    table = group_by_taxonomy(matrix, by="decoder_domain")
    assert list(table.columns[:2]) == ["train", "decoder_domain"]
    assert len(table) == 2 * len(matrix)
    row = table[(table["train"] == "AASIST(ASVspoof2019)") & (table["decoder_domain"] == "frequency")].iloc[0]
    baseline = matrix.loc["AASIST(ASVspoof2019)"]
    assert row["mean_eer"] == pytest.approx((baseline["F1"] + baseline["F2"]) / 2)
    assert row["codecs"] == "F1, F2" and row["count"] == 2


def test_taxonomy_command_prints_the_table_or_pools_a_results_csv(tmp_path, capsys):
    from codecfake_cli.main import main
    from codecfake_hf.evaluation.tables import paper_cross_test

    assert main(["taxonomy"]) == 0
    assert capsys.readouterr().out.strip() == taxonomy_table()
    matrix_csv = tmp_path / "cross_test_eer.csv"
    paper_cross_test().to_csv(matrix_csv)
    assert main(["taxonomy", str(matrix_csv), "--by", "decoder_domain,auxiliary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "| train | decoder_domain | auxiliary | mean_eer | min_eer | max_eer | count | codecs |"
    )
    assert "| E | frequency | none | 23.58 | 12.72 | 34.44 | 2 | F1, F2 |" in lines
    long_csv = tmp_path / "long.csv"
    pd.DataFrame({"codec": ["mimi", "xcodec2"], "eer": [0.2, 0.4]}).to_csv(long_csv, index=False)
    assert main(["taxonomy", str(long_csv), "--by", "quantizer"]) == 0
    assert "| SQ | 0.40 | 0.40 | 0.40 | 1 | xcodec2 |" in capsys.readouterr().out
    assert main(["taxonomy", str(long_csv), "--by", "colour"]) == 2
    assert "taxonomy fields are" in capsys.readouterr().err
    assert main(["taxonomy", str(tmp_path / "missing.csv")]) == 2
