"""The one base class of every error a user can cause and fix, and how entry points report them.

Everything the command line (``codecfake ...``) and ``train.py`` report as one line on stderr, with
exit code 2, is either a :class:`CodecFakeError` (a bad path, unreadable audio, a corrupt
checkpoint, offline Hub access, a refused upload) or an operating-system problem with a file the
user chose (permission denied, read-only file system, disk full, a folder where a file was
expected). The message names the file (or repo, or option) and says what to do. Anything else is a
bug and keeps its traceback; ``--debug`` or ``CODECFAKE_DEBUG=1`` keeps the traceback of user
errors too.

Subclasses also derive from the built-in exception they used to be (``ValueError``,
``RuntimeError``, ...), so code that caught those keeps working.

Ctrl-C (SIGINT) is no error: the entry points print one line saying what is kept and how to go on
(:func:`report_interrupted`) and exit with :data:`INTERRUPTED_EXIT_CODE`, 130, as a shell reports a
program that SIGINT stopped; ``--debug`` shows where it stopped.
"""

from __future__ import annotations

import errno
import gc
import os
import sys

#: Environment variable that makes the command line and ``train.py`` show tracebacks.
DEBUG_ENVIRONMENT_VARIABLE = "CODECFAKE_DEBUG"

#: Exit code of a command stopped with Ctrl-C: 128 + SIGINT (2), what shells report for it.
INTERRUPTED_EXIT_CODE = 128 + 2

#: Operating-system errors a user fixes by choosing another path or freeing space: errno -> fix.
_OS_PROBLEMS = {
    errno.EACCES: "permission denied; check its permissions or choose another location",
    errno.EPERM: "operation not permitted; check its permissions or choose another location",
    errno.EROFS: "the file system is read-only; choose a writable location",
    errno.ENOSPC: "no space left on the device; free some space or choose another location, then rerun",
    errno.EDQUOT: "disk quota exceeded; free some space or choose another location, then rerun",
    errno.EFBIG: "file too large for this file system or the file size limit (ulimit -f); choose another "
    "location, then rerun",
    errno.EISDIR: "is a folder, not a file; pass a file path",
    errno.ENOTDIR: "a part of this path is a file, not a folder; check the path",
    errno.ENOENT: "no such file or folder; check the path",
    errno.EEXIST: "already exists; remove it or choose another path",
    errno.ENAMETOOLONG: "the file name is too long; choose a shorter path",
}


class CodecFakeError(Exception):
    """A user-fixable problem; the message names the file or option and the fix."""


class InputFileError(CodecFakeError, FileNotFoundError):
    """A file or folder the user named is missing, unreadable, or does not hold what is needed."""


class ProcessError(CodecFakeError):
    """A user error that one process of a multi-process run (``accelerate launch``) met alone, in its own
    share of the work; the message names the process. That process reports it (:func:`reported_here`),
    where an error every process meets alike is reported by the main process only."""


def user_error_message(error: BaseException, output: str | os.PathLike | None = None) -> str | None:
    """The one-line message for an error the user can fix, or None when ``error`` is a bug.

    Args:
        error: the exception an entry point caught.
        output: where the command writes (its ``--out``/``--output-dir``), named when an
            operating-system error does not say which file it concerns (a full disk does not).
    """
    if isinstance(error, CodecFakeError):
        message = str(error)
    elif isinstance(error, OSError) and error.errno in _OS_PROBLEMS:
        problem = _OS_PROBLEMS[error.errno]
        if error.filename is not None:
            message = f"{os.fsdecode(error.filename)}: {problem}"
        elif output is not None:
            message = f"while writing {os.fspath(output)}: {problem}"
        else:
            message = problem
    else:
        return None
    return " ".join(message.split())  # one line, whatever the message was built from


def debug_requested(flag: bool = False) -> bool:
    """Whether tracebacks were asked for (``--debug`` or ``CODECFAKE_DEBUG`` set to a true value)."""
    return flag or os.environ.get(DEBUG_ENVIRONMENT_VARIABLE, "").lower() in ("1", "true", "yes", "on")


def reported_here(error: BaseException) -> bool:
    """Whether this process prints the user error ``error``: a process outside a distributed run, or
    its main process (``RANK`` unset or 0, as ``accelerate launch`` and ``torchrun`` set it), prints
    every one; the other processes, which meet the same errors as the main one, only a
    :class:`ProcessError`."""
    return os.environ.get("RANK", "0") == "0" or isinstance(error, ProcessError)


def report_user_error(error: BaseException, program: str, output: str | os.PathLike | None = None) -> bool:
    """Print ``<program>: error: <message>`` to stderr for a user error (in the process that
    :func:`reported_here` names) and return True; return False for a bug (the caller re-raises it)."""
    message = user_error_message(error, output)
    if message is None:
        return False
    if reported_here(error):
        print(f"{program}: error: {message}", file=sys.stderr)
    return True


def report_interrupted(program: str, kept: str) -> int:
    """After Ctrl-C: print ``<program>: interrupted (Ctrl-C); <kept>`` to stderr (in a distributed run,
    from its main process only) and return :data:`INTERRUPTED_EXIT_CODE`. Call it after the ``except``
    block, when the interrupted frames are released, so that their progress bars have closed.

    Args:
        program: the command, as in its error lines (``codecfake build``).
        kept: what is kept and how to go on ("finished shards are kept; rerun the same command").
    """
    gc.collect()  # progress bars of the interrupted work held in reference cycles close (and end their line)
    if os.environ.get("RANK", "0") == "0":
        print(f"{program}: interrupted (Ctrl-C); {kept}", file=sys.stderr)
    return INTERRUPTED_EXIT_CODE
