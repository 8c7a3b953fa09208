"""The one base class of every error a user can cause and fix.

Everything the command line (``codecfake ...``) and ``train.py`` report as one line on stderr, with
exit code 2, derives from :class:`CodecFakeError`: a bad path, unreadable audio, a corrupt
checkpoint, offline Hub access, a refused upload. Its message names the file (or repo, or option)
and says what to do. Anything else is a bug and keeps its traceback.

Subclasses also derive from the built-in exception they used to be (``ValueError``,
``RuntimeError``, ...), so code that caught those keeps working.
"""

from __future__ import annotations


class CodecFakeError(Exception):
    """A user-fixable problem; the message names the file or option and the fix."""
