import pytest

from codecfake_cli.main import main
from codecfake_hf.codecs import registry


def test_all_paper_subsets_are_registered_with_consistent_rows():
    assert registry.PAPER_SUBSETS == (
        "A", "B1", "B2", "B3", "C", "D1", "D2", "D3", "E", "F1", "F2", "F3", "F4", "F5", "F6"
    )  # fmt: skip
    for spec in registry.CODECS.values():
        assert spec.sampling_rate in (16000, 24000, 44100)
        assert spec.quantizer in ("MVQ", "SVQ", "SQ")
        assert spec.decoder_domain in ("time", "frequency")
        assert spec.kbps and spec.frame_rate_hz and spec.files and spec.license
    assert registry.get_spec("e") is registry.CODECS["E"]
    assert registry.CODECS["B1"].input_peak == 0.95 and registry.CODECS["E"].input_peak is None


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(registry.UnknownCodecError, match="valid ids: A, B1"):
        registry.get_spec("Z9")


def test_codecs_command_lists_every_id(capsys):
    assert main(["codecs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["id", "family", "model"]
    assert [line.split()[0] for line in lines[1:16]] == list(registry.PAPER_SUBSETS)
