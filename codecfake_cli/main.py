"""The ``codecfake`` command line: the parser of every sub-command, in a fixed help order, and the
dispatch to the command's ``run``.

Each built-in command is one module of :mod:`codecfake_cli.commands` with ``register(commands)`` (adds its
sub-parser to the parser's sub-parsers and sets its handler with ``set_defaults(func=run)``, and optionally
``interrupted=TEXT``: what Ctrl-C leaves and how to go on, in one line, formatted with the command's
arguments, ``{out}``, or a function of the arguments that returns it) and ``run(args) -> exit code``. Errors a user can cause print one line to stderr and
exit 2, Ctrl-C one line and exit 130 (:mod:`codecfake_cli.reporting`); ``--debug`` or
``CODECFAKE_DEBUG=1`` shows their traceback.

Other packages add sub-commands through the entry-point group :data:`COMMAND_GROUP`
(``codecfake_hf.commands``): each entry point is named after its command and points to a function
``add(commands)`` with the contract of ``register`` above. A plug-in command is listed after the built-in
ones, by name, and cannot replace one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points

from codecfake_cli.commands import (
    app,
    build,
    calibrate,
    codecs,
    compare,
    convert_aasist,
    demo,
    detect,
    evaluate,
    import_,
    matrix,
    mixtures,
    push,
    push_model,
    push_space,
    resynthesize,
    robustness,
    space,
    taxonomy,
    vctk,
)
from codecfake_cli.reporting import run_reported

AddCommand = Callable[[argparse._SubParsersAction], None]

#: The built-in commands, in the order ``codecfake --help`` lists them: the order a user meets them.
COMMANDS: dict[str, AddCommand] = {
    "codecs": codecs.register,
    "convert-aasist": convert_aasist.register,
    "detect": detect.register,
    "calibrate": calibrate.register,
    "vctk": vctk.register,
    "build": build.register,
    "import": import_.register,
    "push": push.register,
    "mixtures": mixtures.register,
    "compare": compare.register,
    "evaluate": evaluate.register,
    "matrix": matrix.register,
    "push-model": push_model.register,
    "demo": demo.register,
    "resynthesize": resynthesize.register,
    "taxonomy": taxonomy.register,
    "robustness": robustness.register,
    "app": app.register,
    "space": space.register,
    "push-space": push_space.register,
}

#: The entry-point group other packages register ``codecfake`` sub-commands in (module docstring).
COMMAND_GROUP = "codecfake_hf.commands"

#: What Ctrl-C leaves, for a command whose parser says nothing more (``set_defaults(interrupted=TEXT)``,
#: TEXT formatted with the parsed arguments: ``"... {output_dir} ..."``).
_INTERRUPTED = "every file is written whole or not at all; rerun the same command"


def plugin_commands() -> tuple[dict[str, AddCommand], dict[str, str]]:
    """The sub-commands registered in :data:`COMMAND_GROUP`: ``({name: add function}, {name: why it
    could not be loaded})``; the second names entry points whose module or function is gone (a stale
    install). Loading one imports its module, so a plug-in keeps its module light (parser only)."""
    commands: dict[str, AddCommand] = {}
    unloadable: dict[str, str] = {}
    for entry_point in entry_points(group=COMMAND_GROUP):
        if entry_point.name in COMMANDS:
            continue
        try:
            commands[entry_point.name] = entry_point.load()
        except (ImportError, AttributeError) as error:
            unloadable[entry_point.name] = f"{entry_point.value}: {type(error).__name__}: {error}"
    return commands, unloadable


def build_parser() -> argparse.ArgumentParser:
    """The ``codecfake`` parser: the built-in commands, then the plug-ins of :data:`COMMAND_GROUP`."""
    return _parser(plugin_commands()[0])


def _parser(plugins: dict[str, AddCommand]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codecfake",
        description="CodecFake on the Hugging Face stack: build the dataset, convert and run AASIST "
        "detectors, evaluate them, upload to the Hub (training: train.py). A user error prints one line "
        "and exits 2 (--debug: its traceback).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS.values():
        add(commands)
    for name in sorted(plugins):
        plugins[name](commands)
    _add_debug_option(parser, default=False)
    return parser


def _add_debug_option(parser: argparse.ArgumentParser, default: bool | str) -> None:
    """``--debug`` on ``parser`` and on every sub-command below it (``codecfake import release ...
    --debug`` works too); a sub-command's leaves the top-level value alone unless given."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the traceback of errors (also CODECFAKE_DEBUG=1)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # an alias names its parser again
                _add_debug_option(command, default=argparse.SUPPRESS)


def _output_location(args: argparse.Namespace) -> str | None:
    """Where the command writes, named when the system reports a full disk without a file name."""
    for option in ("output_dir", "out", "output", "download"):
        if getattr(args, option, None):
            return str(getattr(args, option))
    return None


def main(argv: list[str] | None = None) -> int:
    """Run ``codecfake ARGV`` (default: the process's arguments); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    plugins, unloadable = plugin_commands()
    command = next((word for word in argv if not word.startswith("-")), None)
    if command in unloadable:
        print(
            f"codecfake: error: the command {command!r} could not be loaded ({unloadable[command]}); "
            "reinstall the package with `pip install -e .` in the repository",
            file=sys.stderr,
        )
        return 2
    args = _parser(plugins).parse_args(argv)
    return run_reported(
        f"codecfake {args.command}",
        lambda: args.func(args),
        args.debug,
        output=lambda: _output_location(args),
        kept=lambda: _kept(args),
    )


def _kept(args: argparse.Namespace) -> str:
    """What Ctrl-C left, as the command's ``interrupted`` default tells it (module docstring)."""
    interrupted = getattr(args, "interrupted", _INTERRUPTED)
    return interrupted(args) if callable(interrupted) else interrupted.format(**vars(args))
