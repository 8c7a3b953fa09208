"""How every command line of this package ends: a user error (bad path, corrupt audio, offline, a full
disk; :mod:`codecfake_hf.errors`) prints one line and exits 2, Ctrl-C prints one line saying what is kept
and exits 130, ``--debug`` or ``CODECFAKE_DEBUG=1`` shows the traceback instead."""

from __future__ import annotations

from collections.abc import Callable

from codecfake_hf.errors import debug_requested, report_interrupted, report_user_error


def run_reported(
    program: str,
    run: Callable[[], int | None],
    debug: bool,
    output: Callable[[], str | None],
    kept: Callable[[], str],
) -> int:
    """``run()``'s exit code (None: 0), or 2 after one ``<program>: error: ...`` line for a user error,
    or 130 after one ``<program>: interrupted (Ctrl-C); <kept()>`` line; a bug (or ``debug``) raises.

    Args:
        program: the command as its lines name it (``codecfake build``, ``train.py``).
        run: the command's work.
        debug: the ``--debug`` flag.
        output: where the command writes, named when the system reports a full disk without a file
            name; called after the error (what ``run`` has parsed by then counts).
        kept: what Ctrl-C leaves and how to go on, called after the interruption.
    """
    try:
        return int(run() or 0)
    except KeyboardInterrupt:
        if debug_requested(debug):
            raise
    except Exception as error:
        if debug_requested(debug) or not report_user_error(error, program, output()):
            raise
        return 2
    # Ctrl-C, told once the interrupted frames (and their progress bars) are gone
    return report_interrupted(program, kept())
