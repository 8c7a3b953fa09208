"""Accelerate owns precision: with no train.py flag, `accelerate launch --mixed_precision`,
`accelerate config` and ACCELERATE_MIXED_PRECISION decide; an explicit flag wins. The precision in
use is printed, written to log.jsonl and to training_config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from codecfake_hf import training
from codecfake_hf.training import trainer
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("precision")
    make_synthetic_vctk(
        root / "vctk", speakers=("p225", "p226"), utterances_per_speaker=2, seconds=(0.2, 0.3)
    )
    build_codecfake(root / "vctk", root / "codecfake", ["E"], BuildOptions(tiny=True, batch_size=4))
    return root / "codecfake"


@pytest.fixture()
def fresh_accelerate(monkeypatch):
    """A process-wide Accelerate state that no earlier test configured; classifier output dtypes recorded."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    dtypes: list[torch.dtype] = []

    def build_model(name):
        model, extractor = build(name)
        # Accelerate converts the model's outputs back to float32; the classifier layer shows autocast
        classifier = [module for module in model.modules() if isinstance(module, torch.nn.Linear)][-1]
        classifier.register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
        return model, extractor

    build = trainer.build_model
    monkeypatch.setattr(trainer, "build_model", build_model)
    yield dtypes
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def _train(dataset: Path, output_dir: Path, capsys, **options) -> tuple[str, dict, list]:
    config = training.TrainingConfig(
        subset="E", dataset=str(dataset), model="tiny", output_dir=str(output_dir), epochs=1, batch_size=2,
        num_workers=0, log_with=["none"], **options,
    )  # fmt: skip
    training.train(config)
    log = [json.loads(line) for line in (output_dir / "log.jsonl").read_text().splitlines()]
    settings = json.loads((output_dir / "best" / "training_config.json").read_text())
    return capsys.readouterr().out, settings, log


def test_the_launcher_decides_when_train_py_has_no_flag(
    dataset, tmp_path, monkeypatch, capsys, fresh_accelerate
):
    monkeypatch.setenv(
        "ACCELERATE_MIXED_PRECISION", "bf16"
    )  # what `accelerate launch --mixed_precision bf16` sets
    printed, settings, log = _train(dataset, tmp_path / "run", capsys)
    assert "mixed precision: bf16" in printed
    assert settings["mixed_precision"] == "bf16" and {entry["mixed_precision"] for entry in log} == {"bf16"}
    assert torch.bfloat16 in fresh_accelerate  # the forward passes ran under bf16 autocast


def test_an_explicit_train_py_flag_wins(dataset, tmp_path, monkeypatch, capsys, fresh_accelerate):
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    printed, settings, log = _train(dataset, tmp_path / "run", capsys, mixed_precision="no")
    assert "mixed precision: no" in printed
    assert settings["mixed_precision"] == "no" and {entry["mixed_precision"] for entry in log} == {"no"}
    assert set(fresh_accelerate) == {torch.float32}


def test_train_py_leaves_precision_unset_by_default(train_script):
    parser = train_script.build_parser()
    for argv, precision in ((["--config", "E"], None), (["--mixed-precision", "no"], "no")):
        config = train_script.config_from_args(parser, parser.parse_args(argv), argv)
        assert config.mixed_precision == precision
