"""A CodecFake subset is a ``subset`` in Python and on the command line; the earlier spelling
``config`` (``train.py --config E``, ``codecfake evaluate --configs``, the key of an options file)
keeps working; training_config.json saves ``subset`` and reads files that hold ``config``."""

from __future__ import annotations

import json
import re

import pytest

from codecfake_cli.main import build_parser
from codecfake_hf.errors import InputFileError
from codecfake_hf.training.config import TrainingConfig, TrainingConfigError, read_options_file


def _config(train_script, argv: list[str]) -> TrainingConfig:
    parser = train_script.build_parser()
    return train_script.config_from_args(parser, parser.parse_args(argv), argv)


def test_train_config_flag_is_the_subset_flag(train_script):
    by_subset = _config(train_script, ["--subset", "A", "--epochs", "3"])
    assert by_subset.subset == "A" and by_subset.output_dir.endswith("aasist-l-A")
    assert _config(train_script, ["--config", "A", "--epochs", "3"]) == by_subset
    assert _config(train_script, ["--config", "A"]) != _config(train_script, [])  # the flag is not ignored


def test_train_help_names_both_spellings(train_script, capsys):
    with pytest.raises(SystemExit):
        train_script.main(["--help"])
    text = capsys.readouterr().out
    assert re.search(r"--subset SUBSET, --config SUBSET\s", text)
    assert "--config is the same flag" in " ".join(text.split())


def test_an_options_file_may_use_the_earlier_key(train_script, tmp_path):
    options = tmp_path / "run.yaml"
    options.write_text("config: C\nepochs: 2\n")
    assert read_options_file(options) == {"subset": "C", "epochs": 2}
    assert _config(train_script, ["--config-file", str(options)]) == TrainingConfig(subset="C", epochs=2)
    assert _config(train_script, ["--config-file", str(options), "--subset", "A"]).subset == "A"


def test_an_options_file_giving_both_names_is_refused(tmp_path):
    options = tmp_path / "run.yaml"
    options.write_text("config: C\nsubset: A\n")
    with pytest.raises(TrainingConfigError, match=re.escape(f"{options}: both 'config' and 'subset'")):
        read_options_file(options)


def test_a_training_config_json_written_before_the_rename_loads(tmp_path):
    # every key a run wrote before the rename, the subset under "config"
    old = {
        "config": "C", "dataset": "codecfake", "output_dir": "runs/aasist-l-C", "model": "AASIST-L",
        "recipe": "paper", "epochs": 100, "learning_rate": 0.001, "batch_size": 16, "weight_decay": 0.0001,
        "scheduler": "cosine", "min_learning_rate": 5e-06, "class_weights": "0.1,0.9",
        "gradient_accumulation_steps": 1, "mixed_precision": "no", "seed": 1234, "num_workers": 2,
        "resume": False, "checkpoint_steps": None, "keep_checkpoints": 2, "max_train_samples": None,
        "max_eval_samples": None, "eval_batch_size": 16, "log_with": "auto",
    }  # fmt: skip
    (tmp_path / "training_config.json").write_text(json.dumps(old, indent=2))
    loaded = TrainingConfig.load(tmp_path)
    assert loaded == TrainingConfig(subset="C", mixed_precision="no", eval_batch_size=16)
    again = tmp_path / "again"
    again.mkdir()
    written = json.loads(loaded.save(again).read_text())
    assert written["subset"] == "C" and "config" not in written  # saved under the one name
    assert TrainingConfig.load(again) == loaded


def test_a_training_config_json_giving_both_names_names_the_file(tmp_path):
    (tmp_path / "training_config.json").write_text(json.dumps({"config": "C", "subset": "A"}))
    with pytest.raises(InputFileError, match=re.escape(str(tmp_path / "training_config.json"))):
        TrainingConfig.load(tmp_path)


@pytest.mark.parametrize("command", ["evaluate", "matrix"])
def test_evaluate_configs_is_the_subsets_option(command):
    model = ["--model", "m"] if command == "evaluate" else ["--models", "m"]
    by_subsets = build_parser().parse_args([command, *model, "--subsets", "E,A"])
    by_configs = build_parser().parse_args([command, *model, "--configs", "E,A"])
    assert by_subsets.subsets == by_configs.subsets == "E,A"
    assert vars(by_subsets) == vars(by_configs)
    assert build_parser().parse_args([command, *model]).subsets == "all"


def test_evaluate_help_names_subsets_first(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--subsets SUBSETS, --configs SUBSETS" in text and "--configs is the same option" in text
