"""``FakeInfluxRequestRecorder``: a real HTTP server that records what the InfluxDB client sends and
answers like InfluxDB 2.x / 3 Core would *in shape only* (every query answers an empty result).

It checks request shapes (paths, parameters, headers, bodies) and how the client reads status
codes; it verifies nothing about what a real 2.x or 3.x server stores or answers. The behaviour
on real servers is the store contract suite's job: tests/storage/test_store_contract.py, run
against any server named in ``VA_TEST_INFLUX_URLS`` (tests/storage/external.py).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeInfluxRequestRecorder:
    """What the server answers (``version_header``, ``ping_body``, ``write_status``) and the
    requests it received, each a dict: method, path, params, auth, body."""

    version_header: str | None = "v2.7.4"
    ping_body: bytes = b""
    write_status: int | None = None  # answer every write with this status (e.g. 401, 503)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def writes(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] in ("/api/v2/write", "/write")]

    def queries(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == "/query"]

    @classmethod
    @contextmanager
    def serving(cls) -> Iterator[FakeInfluxRequestRecorder]:
        rec = cls()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
        thread = threading.Thread(target=server.serve_forever, name="fake-influx-recorder", daemon=True)
        thread.start()
        rec.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield rec
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _handler(rec: FakeInfluxRequestRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _record(self, body: bytes) -> dict[str, Any]:
            parts = urllib.parse.urlsplit(self.path)
            entry = {
                "method": self.command,
                "path": parts.path,
                "params": dict(urllib.parse.parse_qsl(parts.query)),
                "auth": self.headers.get("Authorization"),
                "body": body.decode(),
            }
            with rec.lock:
                rec.requests.append(entry)
            return entry

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            entry = self._record(b"")
            if entry["path"] == "/ping":
                headers = {"X-Influxdb-Version": rec.version_header} if rec.version_header else {}
                self._reply(200 if rec.ping_body else 204, rec.ping_body, headers)
            elif entry["path"] == "/query":
                self._reply(200, json.dumps({"results": [{"statement_id": 0}]}).encode())
            else:
                self._reply(404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            entry = self._record(body)
            if entry["path"] not in ("/api/v2/write", "/write"):
                self._reply(404)
            elif rec.write_status is not None:
                self._reply(rec.write_status, json.dumps({"code": "x", "message": "as told"}).encode())
            elif any("bad-" in ln for ln in entry["body"].splitlines()):
                msg = {"code": "unprocessable entity", "message": "failure writing points: field type conflict"}
                self._reply(422, json.dumps(msg).encode())
            else:
                self._reply(204)

    return Handler
