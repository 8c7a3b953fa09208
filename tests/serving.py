"""A loopback HTTP server of one in-memory file, for the tests of checked downloads
(:mod:`codecfake_hf.files.downloads`): range requests, a stalled or dropped connection, an HTTP error."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator


class FileHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``payload`` with HTTP range support and records the Range header of every request (None:
    none). A request from the start, with ``stall_after`` set, gets that many bytes and then the
    connection stalls (a download to interrupt); with ``drop_after`` set, gets that many bytes and then
    the connection closes (the server went away). ``status`` other than 200 answers every request with
    that error."""

    payload = b""
    ranges: list = []
    stall_after: int | None = None
    drop_after: int | None = None
    status = 200

    def do_GET(self):  # noqa: N802 (http.server API)
        header = self.headers.get("Range")
        self.ranges.append(header)
        if self.status != 200:
            self.send_error(self.status)
            return
        start = int(header.removeprefix("bytes=").split("-")[0]) if header else 0
        if start >= len(self.payload) and header:
            self.send_error(416)
            return
        body = self.payload[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = None if header else self.stall_after if self.stall_after is not None else self.drop_after
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            if self.stall_after is not None:
                time.sleep(60)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def served(payload: bytes, name: str) -> Iterator[tuple[str, type[FileHandler]]]:
    """``(url, handler)``: ``payload`` served at ``http://127.0.0.1:PORT/<name>``; set the handler's
    class attributes to change what the server does, read ``handler.ranges`` for what it was asked."""
    handler = type("Handler", (FileHandler,), {"payload": payload, "ranges": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a stalled request does not hold up the shutdown
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{name}", handler
    finally:
        server.shutdown()
        server.server_close()
