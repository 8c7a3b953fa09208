"""The builder's commands (build, push, demo) reach ``codecfake`` through the ``codecfake_hf.commands``
entry points: registered by the installed package, listed where they always were, and a clear
one-line error (not a silent import of the builder) when they are not registered."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from codecfake_hf import cli

BUILDER_COMMANDS = {"build", "import", "push", "demo", "mixtures"}


def _fake_entry_points(*registered: EntryPoint):
    """A stand-in for ``importlib.metadata.entry_points`` that knows only ``registered``."""

    def lookup(group: str):
        assert group == cli.COMMAND_GROUP
        return list(registered)

    return lookup


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    """The sub-command names of ``parser``, in the order ``--help`` lists them."""
    (subparsers,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return list(subparsers.choices)


def test_the_installed_package_registers_the_builder_commands():
    registered = {entry_point.name: entry_point for entry_point in entry_points(group=cli.COMMAND_GROUP)}
    assert BUILDER_COMMANDS <= set(registered), (
        f"run `pip install -e .`: {cli.COMMAND_GROUP} has {registered}"
    )
    for name in BUILDER_COMMANDS:
        assert registered[name].module == "dataset_builder.cli"
        assert callable(registered[name].load())


def test_codecfake_build_help_runs_as_a_command():
    """The console script lists the build options; the parser does not load torch or the builder's
    heavy modules to do so."""
    script = Path(sys.executable).parent / "codecfake"
    assert script.is_file(), f"no codecfake script next to {sys.executable}: run `pip install -e .`"
    shown = subprocess.run([str(script), "build", "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "usage: codecfake build" in shown.stdout
    for flag in ("--vctk", "--configs", "--out", "--tiny", "--checkpoint-dir", "--write-card", "--debug"):
        assert flag in shown.stdout, flag
    probe = (
        "import sys; from codecfake_hf.cli import build_parser; build_parser(); "
        "print(sorted(name for name in ('torch', 'datasets', 'dataset_builder.build') if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_commands_are_listed_in_the_workflow_order():
    """Entry points come back in no useful order (alphabetical in the metadata); --help keeps the
    order of HELP_ORDER, which is the order before the builder's commands became plug-ins."""
    assert _commands(cli.build_parser()) == list(cli.HELP_ORDER)


def add_hello_command(commands) -> None:
    """A plug-in command from another package, for the tests below."""
    hello = commands.add_parser("hello", help="say hello")
    hello.set_defaults(func=lambda args: print("hello") or 0)


def test_a_plugin_of_another_package_is_listed_last_and_runs(monkeypatch, capsys):
    monkeypatch.setattr(
        cli,
        "entry_points",
        _fake_entry_points(
            EntryPoint("hello", f"{__name__}:add_hello_command", cli.COMMAND_GROUP),
            EntryPoint("codecs", f"{__name__}:add_hello_command", cli.COMMAND_GROUP),  # no built-in replaced
        ),
    )
    assert _commands(cli.build_parser())[-1] == "hello"
    assert cli.main(["hello", "--debug"]) == 0
    assert capsys.readouterr().out == "hello\n"


@pytest.mark.parametrize(
    "argv", [["build", "--vctk", "corpus"], ["--debug", "push", "folder", "--repo", "org/x"], ["demo"]]
)
def test_without_registered_plugins_a_builder_command_says_to_install(monkeypatch, capsys, tmp_path, argv):
    """Only on PYTHONPATH (not installed): one line that says `pip install -e .`, exit 2, nothing
    written; the builder is not imported behind the user's back."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "entry_points", _fake_entry_points())
    monkeypatch.delitem(sys.modules, "dataset_builder.cli", raising=False)
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("codecfake: error: ")
    assert "pip install -e ." in line and cli.COMMAND_GROUP in line
    command = next(word for word in argv if not word.startswith("-"))
    assert repr(command) in line
    assert "dataset_builder.cli" not in sys.modules
    assert list(tmp_path.iterdir()) == []
    assert "pip install -e ." in cli.build_parser().format_help().replace("\n", " ")


def test_a_stale_plugin_entry_point_is_named_with_the_fix(monkeypatch, capsys):
    monkeypatch.setattr(
        cli,
        "entry_points",
        _fake_entry_points(
            EntryPoint("build", "dataset_builder.moved_away:add_build_command", cli.COMMAND_GROUP)
        ),
    )
    assert cli.main(["build", "--vctk", "corpus"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "'build' could not be loaded" in line
    assert "dataset_builder.moved_away:add_build_command" in line and "pip install -e ." in line
    assert cli.main(["codecs"]) == 0  # the other commands still work


def test_an_unknown_command_still_gets_the_list_of_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bulid"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'bulid'" in capsys.readouterr().err
