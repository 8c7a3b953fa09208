"""train.py's options come from TrainingConfig through HfArgumentParser: every flag has help text and
the dataclass's default; --config-file values sit between the defaults and the command line; the
training_config.json a run saves is read back by one reader."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from codecfake_hf.errors import InputFileError
from codecfake_hf.training.config import TrainingConfig, read_options_file


def _help_entries(text: str) -> dict[str, str]:
    """``{flag: help text}`` for every option listed by argparse's ``--help``."""
    options = text.split("\noptions:\n", 1)[1]
    entries: dict[str, str] = {}
    flags: list[str] = []
    for line in options.splitlines():
        if line.startswith("  -"):  # a new option: its flags, then (after 2+ spaces) maybe its help
            invocation, _, help_text = line.strip().partition("  ")
            flags = re.findall(r"--[\w-]+", invocation)
            for flag in flags:
                entries[flag] = help_text.strip()
        elif line.startswith("    ") and flags:  # the help continues (or starts) on this line
            for flag in flags:
                entries[flag] = f"{entries[flag]} {line.strip()}".strip()
    return entries


def help_text(show_help, capsys) -> str:
    """What ``show_help()`` (an argparse ``--help``, which exits 0) prints."""
    with pytest.raises(SystemExit) as exit_info:
        show_help()
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def check_every_field_is_described(text: str, options: type) -> dict[str, str]:
    """Check that each field of the dataclass ``options`` is a flag in the ``--help`` output ``text``
    with a description and the field's default; returns the help of every flag."""
    entries = _help_entries(text)
    for item in dataclasses.fields(options):
        flag = "--" + item.name.replace("_", "-")
        assert flag in entries, f"{flag} is not in --help"
        described = re.sub(r"\(default: .*\)$", "", entries[flag]).strip()
        assert len(described.split()) >= 3, f"{flag} has no help text: {entries[flag]!r}"
        default = item.default_factory() if item.default is dataclasses.MISSING else item.default
        assert entries[flag].endswith(f"(default: {default})")
    return entries


def test_help_describes_every_option(train_script, capsys):
    entries = check_every_field_is_described(
        help_text(lambda: train_script.main(["--help"]), capsys), TrainingConfig
    )
    assert entries["--config-file"] and entries["--debug"]


def _config(train_script, argv: list[str]) -> TrainingConfig:
    parser = train_script.build_parser()
    return train_script.config_from_args(parser, parser.parse_args(argv), argv)


def _from_file(path, **overrides) -> TrainingConfig:
    """The options of a YAML or JSON file, with the ``overrides`` that are not None winning: the
    library's way to what ``train.py --config-file`` does."""
    return TrainingConfig(
        **{**read_options_file(path), **{k: v for k, v in overrides.items() if v is not None}}
    )


def test_no_flag_gives_the_dataclass_defaults(train_script):
    assert _config(train_script, []) == TrainingConfig()


def test_flags_win_over_the_options_file_which_wins_over_the_defaults(train_script, tmp_path):
    options = tmp_path / "run.yaml"
    options.write_text("epochs: 3\nlearning_rate: 1e-3\nclass_weights: [0.2, 0.8]\nresume: true\nseed: 7\n")
    config = _config(train_script, ["--config-file", str(options), "--epochs", "5", "--batch_size", "4"])
    assert (config.epochs, config.batch_size, config.seed, config.resume) == (5, 4, 7, True)
    assert config.learning_rate == 1e-3 and config.class_weights == [0.2, 0.8]  # YAML's "1e-3" string checked
    assert config.weight_decay == 1e-4 and config.subset == "E"  # neither in the file nor given: the default
    assert _config(
        train_script, ["--config-file", str(options), "--class-weights", "1", "9"]
    ).class_weights == [1, 9]
    # the library's way to the same options
    assert _from_file(options, epochs=5, batch_size=4, seed=None) == config


def test_training_config_json_is_written_flat_and_read_back(tmp_path):
    config = TrainingConfig(subset="A", model="tiny", class_weights=[0.3, 0.7], log_with=["none"], epochs=4)
    path = config.save(tmp_path)
    written = json.loads(path.read_text())
    assert written["class_weights"] == "0.3,0.7" and written["log_with"] == "none" and written["epochs"] == 4
    assert TrainingConfig.load(tmp_path) == config
    assert TrainingConfig.load(tmp_path / "no-such-run") is None


def test_a_partial_or_newer_training_config_json_loads_with_defaults(tmp_path):
    (tmp_path / "training_config.json").write_text(
        json.dumps({"config": "C", "option_of_a_newer_version": 1})
    )
    assert TrainingConfig.load(tmp_path) == TrainingConfig(subset="C")


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object, found a list"),
     ('{"epochs": 0}', "--epochs 0: must be at least 1")],
)  # fmt: skip
def test_a_bad_training_config_json_names_the_file(tmp_path, content, expected):
    (tmp_path / "training_config.json").write_text(content)
    with pytest.raises(InputFileError, match=re.escape(expected)) as error:
        TrainingConfig.load(tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'training_config.json'}: ")
