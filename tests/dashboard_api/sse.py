"""A Server-Sent Events reader on its own thread, for the stream tests and the dashboards bench.

Plain ``http.client`` over one socket, so that :meth:`SseReader.close` can shut the socket down
and end the reading thread at once (a blocked read of an HTTP client library is not interrupted
by closing the response from another thread)."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit


class SseReader:
    """``with SseReader(url, params) as r: wait_for(lambda: r.named("reading"))``: every event with
    the time it arrived (``time.time()``); the stream is closed on exit."""

    def __init__(self, url: str, params: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = f"{parts.path}?{urlencode(params)}"
        self.events: list[tuple[str, Any, float]] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)
        self._closing = False

    def __enter__(self) -> SseReader:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        self._conn.close()

    def named(self, name: str) -> list[Any]:
        return [data for event, data, _ in list(self.events) if event == name]

    def _run(self) -> None:
        try:
            self._conn.request("GET", self.path, headers={"Accept": "text/event-stream"})
            r = self._conn.getresponse()
            self.status = r.status
            event = ""
            while True:
                line = r.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: "):
                    self.events.append((event, json.loads(text[6:]), time.time()))
        except (OSError, http.client.HTTPException, ValueError) as exc:  # closed by close(), or the server went away
            if not self._closing:
                self.error = exc
