"""HTTP to InfluxDB 1.x, 2.x and 3 Core: a keep-alive connection per thread, the version from
``/ping`` (``X-Influxdb-Version``; 3 Core: a JSON body), InfluxQL ``/query`` (the one read language
all three answer; 2.x through the bucket's DBRP mapping). Writes are the store's: 1.x
``POST /write?db=&rp=`` with HTTP Basic auth, 2.x/3.x ``POST /api/v2/write?org=&bucket=`` with
``Authorization: Token``. 1.x answers queries in MessagePack (``Accept: application/x-msgpack``:
the JSON document, answered and decoded about twice as fast, docs/performance.md); an answer is
decoded by its ``Content-Type``.

Errors are translated here into the kinds of :mod:`storage.base`: refused, reset, timed out,
5xx, 429, an answer that is not a document → ``StoreTransientError``; 401/403 →
``StoreAuthError``; a query refused (4xx, or an ``error`` in the answer) → ``StoreRejectedError``.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from ville_autonome.storage.base import StoreAuthError, StoreRejectedError, StoreTransientError

_JSON = msgspec.json.Decoder()
_MSGPACK = msgspec.msgpack.Decoder()
MSGPACK = "application/x-msgpack"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def brief(self) -> str:
        """The body on one line, cut short: for an error message."""
        return " ".join(self.text().split())[:200]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    version: str
    major: int


def parse_version(version: str) -> int:
    """Major version from ``1.6.7~rc0``, ``v2.7.4``, ``3.0.1``; 0 if it cannot be read."""
    head = version.strip().lstrip("vV").split(".", 1)[0]
    return int(head) if head.isdigit() else 0


class InfluxHttp:
    """A small thread-safe HTTP client for one InfluxDB server."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"InfluxDB url must look like http://HOST:PORT, got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self._token = token
        self._basic = None
        if username:
            raw = f"{username}:{password or ''}".encode()
            self._basic = "Basic " + base64.b64encode(raw).decode()
        # one keep-alive connection per thread: concurrent writers do not wait for each other
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.major = 0

    def _auth_header(self) -> dict[str, str]:
        token = f"Token {self._token}" if self._token else None
        auth = (token or self._basic) if self.major >= 2 else (self._basic or token)
        return {"Authorization": auth} if auth else {}

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout_s)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self) -> None:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes | None = None,
        content_type: str = "",
        accept: str = "",
    ) -> Response:
        query = urlencode(params)
        target = self._prefix + path + ("?" + query if query else "")
        headers = self._auth_header()
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        # each thread has its own connection: no lock around the exchange
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, target, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                resp = Response(r.status, data, {k.lower(): v for k, v in r.getheaders()})
                if r.getheader("connection", "").lower() == "close":
                    self._drop()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # a kept-alive connection the server closed meanwhile: one fresh try (writes are idempotent)
                self._drop()
                if attempt == 2:
                    raise StoreTransientError(f"InfluxDB at {self.url}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise StoreTransientError(f"InfluxDB at {self.url} is unreachable: {exc}") from exc
        if resp.status in (401, 403):
            raise StoreAuthError(f"InfluxDB at {self.url} refused the credentials ({resp.status}): {resp.brief()}")
        if resp.status >= 500 or resp.status == 429:
            raise StoreTransientError(f"InfluxDB at {self.url} answered {resp.status}: {resp.brief()}")
        return resp

    def ping(self) -> ServerInfo:
        r = self.request("GET", "/ping", {})
        if r.status not in (200, 204):
            raise StoreTransientError(f"InfluxDB at {self.url}: /ping answered {r.status}")
        version = r.headers.get("x-influxdb-version", "")
        if not version and r.body:
            try:
                doc = json.loads(r.body)
                version = str(doc.get("version", "")) if isinstance(doc, dict) else ""
            except ValueError:
                version = ""
        info = ServerInfo(version or "unknown", parse_version(version) if version else 0)
        self.major = info.major
        return info

    def query(self, q: str, db: str, *, write: bool = False, epoch: str = "ms") -> list[dict[str, Any]]:
        """Run one InfluxQL statement; return its series (each ``name``/``tags``/``columns``/``values``),
        times in ``epoch`` units (``ms`` or ``ns``)."""
        params = {"q": q, "epoch": epoch}
        if db:
            params["db"] = db
        accept = MSGPACK if self.major == 1 else ""
        if write:
            form = urlencode(params).encode()
            r = self.request("POST", "/query", {}, form, "application/x-www-form-urlencoded", accept)
        else:
            r = self.request("GET", "/query", params, accept=accept)
        try:  # msgspec: a year of rollups is an answer of megabytes
            doc = (_MSGPACK if r.headers.get("content-type") == MSGPACK else _JSON).decode(r.body)
        except msgspec.DecodeError as exc:
            if r.status != 200:
                raise StoreRejectedError(f"InfluxDB refused {q[:120]!r} ({r.status}): {r.brief()}") from exc
            raise StoreTransientError(f"InfluxDB answered {q[:120]!r} with no document (cut short?)") from exc
        if not isinstance(doc, dict):
            raise StoreTransientError(f"InfluxDB answered {q[:120]!r} with no document")
        if r.status != 200 or "error" in doc:
            raise StoreRejectedError(f"InfluxDB refused {q[:120]!r}: {doc.get('error') or r.status}")
        result = (doc.get("results") or [{}])[0]
        if not isinstance(result, dict):
            raise StoreTransientError(f"InfluxDB answered {q[:120]!r} with no result")
        if "error" in result:
            raise StoreRejectedError(f"InfluxDB refused {q[:120]!r}: {result['error']}")
        return [s for s in result.get("series") or [] if isinstance(s, dict)]

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
