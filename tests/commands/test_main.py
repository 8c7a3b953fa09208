"""The ``codecfake`` command line (:mod:`codecfake_cli.main`): every command built in and listed in the
order a user meets them, the builder's included (no entry point needed); other packages' commands
through the ``codecfake_hf.commands`` entry points, listed last; a clear one-line error for a stale
plug-in."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import codecfake_cli.main as cli

BUILDER_COMMANDS = {"build", "import", "push", "demo", "mixtures", "vctk"}

#: ``codecfake --help``'s order: the order a user meets the commands.
HELP_ORDER = [
    "codecs",
    "convert-aasist",
    "detect",
    "calibrate",
    "vctk",
    "build",
    "import",
    "push",
    "mixtures",
    "compare",
    "evaluate",
    "matrix",
    "push-model",
    "demo",
    "resynthesize",
    "taxonomy",
    "robustness",
    "app",
    "space",
    "push-space",
]


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


def test_the_builder_commands_are_built_in_and_need_no_entry_point(monkeypatch, capsys, tmp_path):
    """Only on PYTHONPATH (no entry point registered), the builder's commands are listed and run."""
    assert not BUILDER_COMMANDS & {entry_point.name for entry_point in entry_points(group=cli.COMMAND_GROUP)}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "entry_points", _fake_entry_points())
    assert BUILDER_COMMANDS <= set(_commands(cli.build_parser()))
    assert cli.main(["demo", "--out", "demo", "--epochs", "0"]) == 2
    assert capsys.readouterr().err == "codecfake demo: error: --epochs 0: must be at least 1\n"
    assert list(tmp_path.iterdir()) == []


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
        "import sys; from codecfake_cli.main import build_parser; build_parser(); "
        "print(sorted(name for name in ('torch', 'datasets', 'dataset_builder.build') if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_python_m_codecfake_cli_is_the_codecfake_command():
    """``python -m codecfake_cli`` (what ``accelerate launch -m codecfake_cli build`` starts) parses and
    reports as the console script does."""
    shown = subprocess.run(
        [sys.executable, "-m", "codecfake_cli", "taxonomy", "no/such.csv"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert shown.returncode == 2 and shown.stdout == ""
    assert shown.stderr.startswith("codecfake taxonomy: error: no/such.csv: no such file; pass the")


def test_commands_are_listed_in_the_workflow_order():
    assert _commands(cli.build_parser()) == HELP_ORDER
    assert list(cli.COMMANDS) == HELP_ORDER


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
    assert _commands(cli.build_parser()) == [*HELP_ORDER, "hello"]
    assert cli.main(["hello", "--debug"]) == 0
    assert capsys.readouterr().out == "hello\n"


def test_a_stale_plugin_entry_point_is_named_with_the_fix(monkeypatch, capsys):
    monkeypatch.setattr(
        cli,
        "entry_points",
        _fake_entry_points(
            EntryPoint("hello", "other_package.moved_away:add_hello_command", cli.COMMAND_GROUP)
        ),
    )
    assert cli.main(["hello", "--loud"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "'hello' could not be loaded" in line
    assert "other_package.moved_away:add_hello_command" in line and "pip install -e ." in line
    assert cli.main(["codecs"]) == 0  # the other commands still work


def test_an_install_from_before_the_commands_moved_keeps_working(monkeypatch, capsys, tmp_path):
    """An old install registered the builder's commands as plug-ins of ``dataset_builder.cli`` (gone):
    the built-in commands of the same names run, with no error about the stale entry points."""
    monkeypatch.chdir(tmp_path)
    old = [
        EntryPoint(name, f"dataset_builder.cli:add_{name}_command", cli.COMMAND_GROUP)
        for name in ("build", "demo")
    ]
    monkeypatch.setattr(cli, "entry_points", _fake_entry_points(*old))
    assert _commands(cli.build_parser()) == HELP_ORDER
    assert cli.main(["demo", "--epochs", "0"]) == 2
    assert capsys.readouterr().err == "codecfake demo: error: --epochs 0: must be at least 1\n"


def test_an_unknown_command_still_gets_the_list_of_choices(monkeypatch, capsys):
    monkeypatch.setattr(cli, "entry_points", _fake_entry_points())  # no plug-in installed: the same answer
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bulid"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'bulid'" in capsys.readouterr().err
