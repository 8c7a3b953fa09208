"""The one checked download of a file that is not on the Hub (the VCTK zip, the official AASIST
``.pth``); files on the Hub go through huggingface_hub (:mod:`codecfake_hf.files.hub_io`).

The rules, alike for every such file:

- The download goes to ``<file>.part``, the command's own file: an interrupted run leaves what arrived
  there, and the next run continues it with an HTTP range request (a server that ignores the range
  sends the whole file again, which replaces it). A ``.part`` longer than the file can be is started
  again.
- ``<file>.part`` becomes ``<file>`` only once its size (when known) and sha256 are checked; one that
  fails the check is deleted (it is ours) and the error says so.
- A ``<file>`` already there (an earlier checked download, or one the user put there) is checked the
  same way and used without a request; one that fails is never deleted: it is renamed to
  ``<file>.rejected`` (``.rejected-2``, ... when that is taken) and the error says where it went.
- Offline (``HF_HUB_OFFLINE=1``), nothing is requested from the network (``file://`` URLs are local
  and still read): the error names the URL to fetch by hand.
- A failed download leaves no empty folder that it created (:func:`~codecfake_hf.files.atomic_files.folder_kept_on_success`).

Every error is one line naming the URL or file and what to do, raised as the caller's own error class
(as :func:`codecfake_hf.files.json_files.read_json` does), so it reaches the user the way the caller's other
errors do.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.files.atomic_files import folder_kept_on_success, unused_name
from codecfake_hf.files.hub_io import sha256_file

#: Bytes read from the connection at a time (and written to ``.part`` as they arrive).
_CHUNK_BYTES = 1 << 20


def checked_download(
    url: str,
    destination: str | os.PathLike,
    sha256: str | None,
    size: int | None = None,
    *,
    what: str,
    fix: str,
    error: type[CodecFakeError],
    timeout_s: float = 60.0,
) -> Path:
    """``destination``, holding the file at ``url`` whose size (bytes) is ``size`` and whose sha256 is
    ``sha256`` (None: not checked), downloaded unless a file that passes the checks is there already
    (the module docstring's rules).

    Args:
        what: what the file is, as the messages name it ("zip", "checkpoint").
        fix: how the user gets the file without this download, the end of every download error
            ("download the zip yourself and put it at DIR/VCTK-Corpus-0.92.zip").
        error: the exception class to raise (a :class:`~codecfake_hf.errors.CodecFakeError`).
        timeout_s: seconds to wait for the server before giving up.

    Raises:
        error: the file there fails the checks (it is moved aside), offline, the download failed or
            was interrupted (what arrived is kept for the next run), or the download fails the checks
            (it is deleted).
    """
    from huggingface_hub import is_offline_mode

    destination = Path(destination)
    if destination.is_file():
        problem = file_problem(destination, size, sha256)
        if problem is not None:
            aside = unused_name(destination.with_name(destination.name + ".rejected"))
            destination.rename(aside)
            raise error(
                f"{destination}: {problem}, not the expected {what}; moved it to {aside} (nothing was deleted); "
                f"rerun to download the {what}, or put the right one at {destination}"
            )
        return destination
    if is_offline_mode() and urllib.request.urlparse(url).scheme != "file":
        raise error(f"offline (HF_HUB_OFFLINE is set): cannot fetch {url}; {fix}")
    with folder_kept_on_success(destination.parent):
        partial = _fetch(url, destination, size, fix, error, timeout_s)
        problem = file_problem(partial, size, sha256)
        if problem is not None:
            partial.unlink()
            raise error(
                f"{url}: the download {problem}; deleted it ({partial}, this command's partial file); "
                f"rerun to download again, or {fix}"
            )
        partial.replace(destination)
    return destination


def _fetch(
    url: str, destination: Path, size: int | None, fix: str, error: type[CodecFakeError], timeout_s: float
) -> Path:
    """Fetch ``url`` into ``<destination>.part`` (continuing a partial file of an interrupted run) and
    return that file, complete but not yet checked. A failure keeps the bytes that arrived, or removes
    the ``.part`` when none did."""
    partial = destination.with_name(destination.name + ".part")
    offset = partial.stat().st_size if partial.is_file() else 0
    if size is not None and offset > size:  # longer than the file: our own file, and wrong
        partial.unlink()
        offset = 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            resumed = offset > 0 and getattr(response, "status", None) == 206
            if not resumed:
                offset = 0
            with (
                partial.open("ab" if resumed else "wb") as sink,
                tqdm(total=size, initial=offset, unit="B", unit_scale=True, desc=destination.name) as bar,
            ):
                while chunk := response.read1(_CHUNK_BYTES):  # what has arrived: kept if interrupted
                    sink.write(chunk)
                    bar.update(len(chunk))
            if missing := getattr(response, "length", None):  # the server closed the connection early
                raise ConnectionError(f"the connection closed {missing} bytes before the end")
    except urllib.error.HTTPError as failure:
        if failure.code == 416 and size is not None and offset == size:  # the partial file is complete
            return partial
        raise _download_error(url, partial, f"HTTP {failure.code}", fix, error) from None
    except BaseException as failure:  # a network error, Ctrl-C: keep what arrived, for the next run
        if partial.is_file() and partial.stat().st_size == 0:
            partial.unlink()
        if isinstance(failure, OSError):  # urllib's URLError, a timeout, a reset connection
            reason = failure.reason if isinstance(failure, urllib.error.URLError) else failure
            raise _download_error(url, partial, str(reason), fix, error) from None
        raise
    return partial


def _download_error(
    url: str, partial: Path, reason: str, fix: str, error: type[CodecFakeError]
) -> CodecFakeError:
    resume = f"rerun to resume from {partial}, or " if partial.is_file() else ""
    return error(f"could not download {url} ({reason}); {resume}{fix}")


def file_problem(path: Path, size: int | None, sha256: str | None) -> str | None:
    """What is wrong with the file ``path`` (its size in bytes, then its sha256), or None."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"is {actual_size} bytes instead of {size}"
    if sha256 is not None and (actual := sha256_file(path, progress=actual_size > 1 << 30)) != sha256:
        return f"has sha256 {actual}, which does not match {sha256}"
    return None
