"""Downloads through huggingface_hub against a fake Hub on the loopback interface (nothing leaves the
machine): proxies are honoured, a Hub that does not answer fails fast, gated / missing repos say
what to do; non-Hub downloads (the AASIST .pth) are checked against their sha256 before use."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codecfake_hf.files import hub_io
from codecfake_hf.models.aasist import convert_aasist_checkpoint as converter

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = b'{"fake": true}'


class _FakeHub(http.server.BaseHTTPRequestHandler):
    """Answers ``/<org>/<repo>/resolve/<rev>/<file>`` (also as an HTTP proxy, absolute URLs) the way
    the Hub does; ``mode`` picks the behaviour: "files", "silent" (never answers), or an
    ``X-Error-Code`` ("GatedRepo", "RepoNotFound")."""

    mode = "files"
    requests: list = []

    def _answer(self, with_body: bool) -> None:
        self.requests.append((self.command, self.path))
        if self.mode == "silent":
            time.sleep(120)
            return
        if self.mode != "files":
            self.send_response(401)
            self.send_header("X-Error-Code", self.mode)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        revision = self.path.split("/resolve/")[-1].split("/")[0]  # a commit asked for is the one served
        self.send_header("X-Repo-Commit", revision if len(revision) == 40 else "0" * 40)
        self.send_header("ETag", f'"{hashlib.sha1(CONFIG).hexdigest()}"')
        self.send_header("Content-Length", str(len(CONFIG)))
        self.end_headers()
        if with_body:
            self.wfile.write(CONFIG)

    def do_HEAD(self):  # noqa: N802 (http.server API)
        self._answer(False)

    def do_GET(self):  # noqa: N802
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_hub():
    def start(mode: str):
        handler = type("Handler", (_FakeHub,), {"mode": mode, "requests": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", handler

    servers: list = []
    yield start
    for server in servers:
        server.shutdown()


def _fetch(
    tmp_path: Path, repo: str = "org/repo", timeout: float = 90, code: str | None = None, **env: str
) -> tuple[subprocess.CompletedProcess, float]:
    """``fetch_files(repo, ("config.json",))`` (or ``code``) in a fresh process (huggingface_hub reads its
    endpoint and proxy settings at import) with an empty cache."""
    environment = {
        k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")
    }
    environment |= {
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(tmp_path / "hf"),
        "PYTHONPATH": str(REPO_ROOT),
    } | env
    code = (
        code
        or f"from codecfake_hf.files.hub_io import fetch_files\nprint(fetch_files({repo!r}, ('config.json',))['config.json'])"
    )
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    return result, time.monotonic() - start


def test_fetch_goes_through_an_https_proxy_like_huggingface_hub(fake_hub, tmp_path):
    """The Hub host does not resolve here; only the proxy reaches it (a raw socket probe of the host
    would call the Hub unreachable)."""
    proxy, handler = fake_hub("files")
    result, _ = _fetch(tmp_path, HF_ENDPOINT="http://hub.invalid", HTTP_PROXY=proxy)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.strip()).read_bytes() == CONFIG
    assert ("GET", "http://hub.invalid/org/repo/resolve/main/config.json") in handler.requests


def test_a_codec_download_asks_the_hub_for_the_pinned_commit(fake_hub, tmp_path):
    """Through huggingface_hub itself: the registry's commit is in every URL, never ``main``."""
    endpoint, handler = fake_hub("files")
    code = (
        "from codecfake_hf.codecs.registry import fetch_checkpoint, get_spec\n"
        "print(fetch_checkpoint(get_spec('D1'), ('config.json',))['config.json'])"
    )
    result, _ = _fetch(tmp_path, code=code, HF_ENDPOINT=endpoint)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.strip()).read_bytes() == CONFIG
    pinned = "7c2fc5e759f1f501aefc6e7a0265cc57f5d17ba7"
    assert f"/{pinned}/" in result.stdout  # cached as that commit's snapshot
    files = {path for _, path in handler.requests if "/resolve/" in path}
    assert files == {f"/descript/dac_16khz/resolve/{pinned}/config.json"}


def test_fetch_fails_fast_when_the_hub_does_not_answer(fake_hub, tmp_path):
    """A host that accepts connections and never answers: one HEAD with HF_HUB_ETAG_TIMEOUT, no retry
    loop (hf_hub_download alone retries 5 times with 60 s timeouts when the file is not cached)."""
    endpoint, handler = fake_hub("silent")
    result, seconds = _fetch(tmp_path, timeout=60, HF_ENDPOINT=endpoint, HF_HUB_ETAG_TIMEOUT="2")
    assert result.returncode == 1 and seconds < 20
    message = result.stderr.strip().splitlines()[-1]
    assert f"the Hub ({endpoint}) is unreachable" in message
    assert "`hf download org/repo config.json`" in message
    assert [method for method, _ in handler.requests].count("HEAD") == 1


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("GatedRepo", "org/repo is gated: accept its conditions at"),
        ("RepoNotFound", "org/repo: no such Hub repo, or it is private"),
    ],
)
def test_fetch_says_what_to_do_for_gated_or_missing_repos(fake_hub, tmp_path, mode, expected):
    endpoint, _ = fake_hub(mode)
    result, _ = _fetch(tmp_path, HF_ENDPOINT=endpoint)
    assert result.returncode == 1
    assert expected in result.stderr and "hf auth login" in result.stderr


def test_fetch_rejects_an_invalid_repo_id():
    with pytest.raises(hub_io.CheckpointUnavailableError, match="'org/bad--id' is not a valid Hub repo id"):
        hub_io.fetch_files("org/bad--id", ("config.json",))


# --- The AASIST .pth: a non-Hub download checked against its sha256 --------------------------------


@pytest.fixture()
def served_checkpoint(tmp_path, monkeypatch):
    """A stand-in for the official file, "downloaded" from a file:// URL, with its digest as the
    official one."""
    source = tmp_path / "mirror" / "AASIST-L.pth"
    source.parent.mkdir()
    source.write_bytes(b"not really a state dict, but the right bytes")
    monkeypatch.setattr(converter, "OFFICIAL_CHECKPOINT_URL", source.parent.as_uri() + "/{variant}.pth")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(converter, "OFFICIAL_CHECKPOINT_SHA256", {"AASIST-L": digest})
    monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", False)
    return source


def test_checkpoint_download_is_kept_only_with_the_official_sha256(served_checkpoint, tmp_path, monkeypatch):
    target = converter.download_official_checkpoint("AASIST-L", tmp_path / "dl")
    assert target.read_bytes() == served_checkpoint.read_bytes()
    monkeypatch.setattr(converter, "OFFICIAL_CHECKPOINT_SHA256", {"AASIST-L": "0" * 64})
    with pytest.raises(
        hub_io.CheckpointUnavailableError, match="the download has sha256 .* which does not match 0+;"
    ):
        converter.download_official_checkpoint("AASIST-L", tmp_path / "other")
    assert not (tmp_path / "other").exists()  # the bad download is deleted, and the folder made for it
    aside = target.with_name("AASIST-L.pth.rejected")
    with pytest.raises(
        hub_io.CheckpointUnavailableError, match=f"moved it to {aside} \\(nothing was deleted\\)"
    ):
        converter.download_official_checkpoint("AASIST-L", tmp_path / "dl")  # a file already there
    assert aside.read_bytes() == served_checkpoint.read_bytes()  # a file the user has is never deleted


def test_a_failed_checkpoint_download_leaves_no_folder(served_checkpoint, tmp_path, monkeypatch, capsys):
    """``convert-aasist download OUT`` that cannot download leaves no empty ``OUT.download/`` (nor
    ``OUT``); a download folder that existed before stays, with what the user had in it."""
    from codecfake_cli.main import main

    monkeypatch.setattr(converter, "OFFICIAL_CHECKPOINT_URL", (tmp_path / "gone").as_uri() + "/{variant}.pth")
    monkeypatch.chdir(tmp_path)
    assert main(["convert-aasist", "download", "models/aasist-l"]) == 2
    assert "could not download file://" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()
    (tmp_path / "kept.download").mkdir()
    with pytest.raises(hub_io.CheckpointUnavailableError, match="could not download"):
        converter.download_official_checkpoint("AASIST-L", tmp_path / "kept.download")
    assert (tmp_path / "kept.download").is_dir()


def test_checkpoint_download_offline_names_the_url(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(hub_io.CheckpointUnavailableError, match="HF_HUB_OFFLINE is set.*AASIST-L.pth"):
        converter.download_official_checkpoint("AASIST-L", tmp_path)


def test_official_digests_match_the_official_files(fixtures_dir):
    for variant, digest in converter.OFFICIAL_CHECKPOINT_SHA256.items():
        assert hub_io.sha256_file(fixtures_dir / "aasist" / f"{variant}.pth") == digest
