"""`codecfake build` takes its build options from BuildOptions through HfArgumentParser: every field is
a flag with help text, and the command line and the library share one set of defaults."""

from __future__ import annotations

import dataclasses
import re

import pytest
from test_training_options import _help_entries  # argparse --help -> {flag: help text}

from codecfake_hf.cli import _build, build_parser
from dataset_builder.build_options import BuildOptions


def test_build_help_describes_every_build_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["build", "--help"])
    assert exit_info.value.code == 0
    entries = _help_entries(capsys.readouterr().out)
    for item in dataclasses.fields(BuildOptions):
        flag = "--" + item.name.replace("_", "-")
        assert flag in entries, f"{flag} is not in codecfake build --help"
        described = re.sub(r"\(default: .*\)$", "", entries[flag]).strip()
        assert len(described.split()) >= 3, f"{flag} has no help text: {entries[flag]!r}"
        assert entries[flag].endswith(f"(default: {item.default})")


def test_the_command_line_builds_with_the_library_defaults(monkeypatch, tmp_path):
    import dataset_builder.build

    calls = []
    monkeypatch.setattr(dataset_builder.build, "build_codecfake", lambda *args, **kwargs: calls.append(args) or {
        "configs": [], "splits": {}, "excluded": []})  # fmt: skip
    _build(build_parser().parse_args(["build", "--vctk", str(tmp_path), "--configs", "E"]))
    _build(build_parser().parse_args(["build", "--vctk", str(tmp_path), "--configs", "E", "--tiny",
                                      "--num-proc", "3", "--mic", "mic2", "--writer_batch_size", "7"]))  # fmt: skip
    assert [call[3] for call in calls] == [
        BuildOptions(),
        BuildOptions(tiny=True, num_proc=3, mic="mic2", writer_batch_size=7),
    ]
