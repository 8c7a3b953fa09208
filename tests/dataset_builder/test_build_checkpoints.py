"""`codecfake build` without --tiny: every codec's checkpoint files are found before any audio is
processed, and a missing one is named with commands and options that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from codecfake_cli.main import build_parser, main
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92",
        speakers=("p225", "p226", "p227"),
        utterances_per_speaker=1,
        seconds=(0.3, 0.4),
    )


def test_offline_build_stops_before_the_bonafide_pass(corpus, tmp_path, capsys):
    out = tmp_path / "codecfake"
    assert main(["build", "--vctk", str(corpus), "--configs", "E,D1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert line.startswith(
        "codecfake build: error: checkpoint files not in the Hub cache and HF_HUB_OFFLINE is set"
    )
    # at the commits the registry pins
    assert (
        "`hf download facebook/encodec_24khz config.json model.safetensors --revision c1dbe2ae3f1de713481a3b3e7c47f357092ee040`"
        in line
    )
    assert (
        "`hf download descript/dac_16khz config.json model.safetensors --revision 7c2fc5e759f1f501aefc6e7a0265cc57f5d17ba7`"
        in line
    )
    assert "--checkpoint-dir DIR" in line and "--tiny" in line and "huggingface-cli" not in line
    assert not list(out.rglob("*.parquet")) and not (out / "data").exists()  # no bona fide shard was written


def test_checkpoint_dir_holds_one_folder_per_codec(corpus, tmp_path):
    from codecfake_hf.codecs import encodec
    from codecfake_hf.codecs.registry import get_spec
    from dataset_builder import DatasetBuildError

    checkpoints = tmp_path / "checkpoints"
    encodec.tiny_codec(get_spec("E")).model.save_pretrained(
        checkpoints / "E"
    )  # stands in for the official files
    args = build_parser().parse_args(["build", "--vctk", str(corpus), "--checkpoint-dir", str(checkpoints)])
    assert args.checkpoint_dir == str(checkpoints)  # the option the error message names exists
    options = BuildOptions(checkpoint_dir=str(checkpoints), batch_size=4)
    with pytest.raises(DatasetBuildError, match=f"missing from --checkpoint-dir {checkpoints} for codec D1"):
        build_codecfake(corpus, tmp_path / "both", ["E", "D1"], options)
    report = build_codecfake(corpus, tmp_path / "codecfake", ["E"], options)
    assert report["configs"] == ["bonafide", "E"] and not report["tiny_codecs"]
