"""Records on either backend: what the alarm log and the command log share.

- :class:`SqliteJournal`: a journal's tables in the embedded store's SQLite file, on a connection
  of its own (WAL lets it share the file with the store), one lock, transactions, reads;
- :class:`InfluxJournal`: a journal's measurements in the store's InfluxDB database, written with
  the store's line protocol (1.x ``/write``; 2.x/3.x ``/api/v2/write``) and read back as
  ``(tags, row)`` pairs by bounded InfluxQL queries (``HORIZON_MS``);
- :func:`open_journal` / :func:`journal_beside`: the backend the settings name, or the one beside
  an open store (its file, or its server and database).

InfluxDB stores no null: an unknown time or code is written ``-1`` (:func:`known_or_minus_one`)
and read back as ``None`` (:func:`none_if_negative`). Every failure is a ``storage.base`` error of
its kind, as the store's own, naming the journal: a locked or busy file, a server down or
answering 5xx → ``StoreTransientError``; a file we may not write, or credentials refused →
``StoreAuthError``; a statement or a write refused for what it is (HTTP 4xx) → ``StoreRejectedError``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.influx_wire.influxql import ns, quote_ident
from ville_autonome.influx_wire.line_protocol import join_lines
from ville_autonome.storage.base import StoreAuthError, StoreRejectedError
from ville_autonome.storage.influx_http import InfluxHttp
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.sqlite_store import SqliteStore, store_error

log = logging.getLogger(__name__)

HORIZON_MS = 400 * 86_400_000  # how far back an InfluxDB query looks (every query is bounded)

Fields = dict[str, float | str | bool]
Row = tuple[dict[str, str], dict[str, Any]]  # a point's tags, and its columns (``time`` in ms)
T = TypeVar("T")


def one_line(value: str) -> str:
    """Line protocol carries no newline in a field: user text (a reason, a comment) keeps one line."""
    return " ".join(value.splitlines())


def known_or_minus_one(value: int | None) -> float:
    return float(-1 if value is None else value)


def none_if_negative(value: Any) -> int | None:
    return None if value is None or value < 0 else int(value)


class SqliteJournal:
    """A journal in a SQLite file: ``schema`` is created on opening."""

    name: ClassVar[str]  # "alarm log", "command log": in every error
    schema: ClassVar[str]

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(self.schema)
        except sqlite3.Error as exc:
            raise store_error(exc, f"({self.name}) {path}") from exc
        self._path = str(path)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise store_error(exc, f"({self.name}) {self._path}") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise store_error(exc, f"({self.name}) {self._path}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()


class InfluxJournal:
    """A journal in an InfluxDB database, on the store's HTTP client (closed with the journal only
    if ``owns_http``)."""

    name: ClassVar[str]

    def __init__(
        self, http: InfluxHttp, database: str, *, org: str | None, rp: str | None, owns_http: bool = False
    ) -> None:
        self.http, self.database, self.org, self.rp = http, database, org, rp
        self._owns_http = owns_http

    def _write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        body = join_lines(lines)
        if self.http.major >= 2:
            params = {"bucket": self.database, "precision": "ms", **({"org": self.org} if self.org else {})}
            r = self.http.request("POST", "/api/v2/write", params, body, "text/plain; charset=utf-8")
        else:
            params = {"db": self.database, "precision": "ms", **({"rp": self.rp} if self.rp else {})}
            r = self.http.request("POST", "/write", params, body, "text/plain; charset=utf-8")
        if r.status == 404:  # as the store says it: an operator must create the database
            raise StoreAuthError(f"{self.name}: InfluxDB has no database (bucket) {self.database!r}")
        if r.status >= 300:  # 401/403, 429 and 5xx are raised by the request with their kinds
            raise StoreRejectedError(f"{self.name}: InfluxDB answered {r.status}: {r.text()[:200]}")

    def _rows(self, measurement: str, where: str = "", tail: str = "", lookback_ms: int = HORIZON_MS) -> list[Row]:
        """Points of ``measurement`` from ``lookback_ms`` ago to ``HORIZON_MS`` ahead; ``where``
        (`` AND …``) and ``tail`` (``GROUP BY …``) built only from influx_wire.influxql quoting."""
        now = time.time_ns() // 1_000_000
        bound = f"time >= {ns(now - lookback_ms)} AND time <= {ns(now + HORIZON_MS)}"
        q = f"SELECT * FROM {quote_ident(measurement)} WHERE {bound}{where} {tail}"  # noqa: S608 (quoted by influxql)
        out: list[Row] = []
        for series in self.http.query(q, self.database):
            tags = series.get("tags") or {}
            for values in series["values"]:
                out.append((tags, dict(zip(series["columns"], values, strict=True))))
        return out

    def _read_each(self, rows: Sequence[Row], read: Callable[[dict[str, str], dict[str, Any]], T]) -> list[T]:
        """``read`` of every row that can be read whole; a row that cannot (a foreign writer's, a
        field of another type or not JSON) is skipped and counted in one warning, never raised."""
        out: list[T] = []
        bad = 0
        for tags, row in rows:
            try:
                out.append(read(tags, row))
            except (KeyError, TypeError, ValueError):  # json.JSONDecodeError and an unknown status are ValueErrors
                bad += 1
        if bad:
            log.warning("%s: %d row(s) that cannot be read skipped (written by something else?)", self.name, bad)
        return out

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


SqliteJ = TypeVar("SqliteJ", bound=SqliteJournal)
InfluxJ = TypeVar("InfluxJ", bound=InfluxJournal)


def open_journal(settings: StoreSettings, sqlite: type[SqliteJ], influx: type[InfluxJ]) -> SqliteJ | InfluxJ:
    """The journal in the configured store, on a connection of its own (a server that does not
    answer raises ``StoreTransientError``)."""
    if settings.backend == "sqlite":
        return sqlite(settings.path, timeout_s=settings.timeout_s)
    http = InfluxHttp(
        settings.url,
        timeout_s=settings.timeout_s,
        token=settings.token.get_secret_value() if settings.token else None,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
    )
    http.ping()
    return influx(http, settings.database, org=settings.org, rp=settings.retention_policy, owns_http=True)


def journal_beside(
    store: object,
    settings: StoreSettings,
    sqlite: type[SqliteJ],
    influx: type[InfluxJ],
    *,
    memory_of_its_own: bool = True,
) -> SqliteJ | InfluxJ:
    """The journal beside an open store (its file, or its server and database, sharing its HTTP
    client); for a store of another kind, the one ``settings`` name. Beside an in-memory SQLite
    store, an in-memory journal of its own, or (``memory_of_its_own=False``) the one ``settings`` name."""
    if isinstance(store, SqliteStore) and (store.path != ":memory:" or memory_of_its_own):
        return sqlite(store.path, timeout_s=settings.timeout_s)
    if isinstance(store, InfluxStore):
        return influx(store.http, store.database, org=store.org, rp=store.retention_policy)
    return open_journal(settings, sqlite, influx)
