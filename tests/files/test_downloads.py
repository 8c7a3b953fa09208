"""The one checked download (:func:`codecfake_hf.files.downloads.checked_download`) against a loopback server:
checked before use, resumed after a dropped connection, refused offline, one line in the caller's error
class; a user's file never deleted. The VCTK zip's own cases are in
``tests/dataset_builder/test_dataset_vctk.py``, the AASIST checkpoint's in ``tests/files/test_hub_downloads.py``."""

from __future__ import annotations

import hashlib

import huggingface_hub
import pytest

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.files.downloads import checked_download
from tests.serving import served

PAYLOAD = bytes(range(256)) * 64  # 16 KiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
FIX = "put the file at DIR/file.bin yourself"


class OwnError(CodecFakeError):
    """The caller's error class."""


def _download(url, destination, **changes):
    arguments = {"sha256": DIGEST, "size": len(PAYLOAD), "what": "file", "fix": FIX, "error": OwnError}
    arguments |= changes
    return checked_download(url, destination, arguments.pop("sha256"), arguments.pop("size"), **arguments)


@pytest.fixture()
def server(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with served(PAYLOAD, "file.bin") as (url, handler):
        yield url, handler


def test_a_download_is_checked_then_used_without_a_second_request(server, tmp_path):
    url, handler = server
    target = _download(url, tmp_path / "new" / "file.bin")
    assert target.read_bytes() == PAYLOAD and handler.ranges == [None]
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]  # no .part left
    assert _download(url, target) == target and handler.ranges == [None]  # checked, not fetched again


def test_a_dropped_connection_keeps_what_arrived_and_the_rerun_resumes(server, tmp_path):
    url, handler = server
    handler.drop_after = 5000
    target = tmp_path / "file.bin"
    partial = tmp_path / "file.bin.part"
    with pytest.raises(OwnError) as raised:
        _download(url, target)
    message = str(raised.value)
    assert message == (
        f"could not download {url} (the connection closed {len(PAYLOAD) - 5000} bytes before the end); "
        f"rerun to resume from {partial}, or {FIX}"
    )
    assert partial.read_bytes() == PAYLOAD[:5000] and not target.exists()
    assert _download(url, target).read_bytes() == PAYLOAD
    assert handler.ranges == [None, "bytes=5000-"] and not partial.exists()


def test_a_complete_partial_file_is_checked_without_downloading_again(server, tmp_path):
    """The server answers 416 to a range starting at the end: the ``.part`` is complete."""
    url, handler = server
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD)
    assert _download(url, tmp_path / "file.bin").read_bytes() == PAYLOAD
    assert handler.ranges == [f"bytes={len(PAYLOAD)}-"]


def test_an_http_error_is_one_line_and_leaves_no_folder(server, tmp_path):
    url, handler = server
    handler.status = 404
    with pytest.raises(OwnError) as raised:
        _download(url, tmp_path / "made" / "here" / "file.bin")
    assert str(raised.value) == f"could not download {url} (HTTP 404); {FIX}"
    assert not (tmp_path / "made").exists()  # the folders it made for the download are gone again


def test_a_download_that_fails_the_check_is_deleted(server, tmp_path):
    url, _ = server
    with pytest.raises(
        OwnError, match=r"the download has sha256 [0-9a-f]{64}, which does not match 0+; deleted it"
    ):
        _download(url, tmp_path / "file.bin", sha256="0" * 64)
    with pytest.raises(OwnError, match=f"the download is {len(PAYLOAD)} bytes instead of 3; deleted it"):
        _download(url, tmp_path / "file.bin", size=3)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_file_in_place_is_moved_aside_not_downloaded_over(server, tmp_path):
    url, handler = server
    target = tmp_path / "file.bin"
    target.write_bytes(b"the user's own file")
    with pytest.raises(OwnError) as raised:
        _download(url, target, size=None)
    aside = tmp_path / "file.bin.rejected"
    assert str(raised.value).startswith(f"{target}: has sha256 ") and str(raised.value).endswith(
        f"not the expected file; moved it to {aside} (nothing was deleted); rerun to download the file, or put "
        f"the right one at {target}"
    )
    assert aside.read_bytes() == b"the user's own file" and handler.ranges == []
    assert _download(url, target).read_bytes() == PAYLOAD


def test_offline_nothing_is_requested_but_a_file_url_is_read(server, tmp_path, monkeypatch):
    url, handler = server
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OwnError) as raised:
        _download(url, tmp_path / "dl" / "file.bin")
    assert str(raised.value) == f"offline (HF_HUB_OFFLINE is set): cannot fetch {url}; {FIX}"
    assert handler.ranges == [] and not (tmp_path / "dl").exists()
    mirror = tmp_path / "mirror.bin"
    mirror.write_bytes(PAYLOAD)
    assert _download(mirror.as_uri(), tmp_path / "file.bin").read_bytes() == PAYLOAD
