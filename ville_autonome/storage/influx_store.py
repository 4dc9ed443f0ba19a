# ruff: noqa: S608  (InfluxQL built only from influx_wire.influxql quoting and integer times; tested for injection)
"""The InfluxDB backend (1.x, 2.x, 3 Core) behind :class:`storage.base.Store`; schema in docs/storage.md.

Writes are line protocol at ms precision over plain HTTP (:mod:`storage.influx_http`): the
ingest's own ack/retry loop is the only retry, nothing is buffered here. A write the server
refuses for what the points are (1.x ``400 partial write … dropped=N`` or ``unable to parse``;
2.x ``400``/``422``; ``413`` too large) is split in halves until the bad points are isolated: those
come back in ``WriteResult.rejected``, the good ones are written (re-writing a good point is
harmless: same series and timestamp replace the fields). In the same request, after the raw
points, a write leaves its dirty marks (:mod:`influx_wire.marks`) and the sequence records of the
envelopes they came in, then returns: rollups (``rollup_15m``/``rollup_1d``)
are compiled from those marks by the one rollup compiler (:meth:`InfluxStore.refresh_rollups`,
:mod:`storage.influx_rollups`), the same on every version (no continuous queries, no tasks).

Errors: the three kinds of :mod:`storage.base`, translated in :mod:`storage.influx_http`. Reads
skip rows that are not whole (:mod:`influx_wire.rows`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ville_autonome.influx_wire.influxql import ns, quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import join_lines
from ville_autonome.influx_wire.marks import MARKS, MarkWriter
from ville_autonome.influx_wire.reading_lines import ReadingLines, column_lines, reading_lines
from ville_autonome.influx_wire.rows import (
    READINGS,
    latest_from,
    rollup_columns,
    rows_of,
    series_point,
)
from ville_autonome.readings.columns import ReadingColumns
from ville_autonome.readings.model import StoredReading
from ville_autonome.series.rollups import (
    ROLLUP_1D_MS,
    ROLLUP_15M_MS,
    STAT_FIELDS,
    aggregate,
    check_fields,
    columns_from,
    columns_from_stats,
    merge_inputs,
    rollup_source,
    stats_from_columns,
)
from ville_autonome.series.values import (
    IntervalColumns,
    IntervalStat,
    LatestValue,
    RollupKey,
    SequenceNote,
    SeriesPoint,
)
from ville_autonome.storage.base import Encoded, StoreAuthError, StoreError, StoreTransientError, WriteResult
from ville_autonome.storage.influx_balances import InfluxBalances
from ville_autonome.storage.influx_http import InfluxHttp
from ville_autonome.storage.influx_records import HEALTH, InfluxRecords
from ville_autonome.storage.influx_rollups import (
    CLOCK_SKEW_MS,
    ROLLUP_1D,
    ROLLUP_15M,
    InfluxRollupCompiler,
)

log = logging.getLogger(__name__)

__all__ = ["HEALTH", "READINGS", "ROLLUP_1D", "ROLLUP_15M", "InfluxStore"]

RAW_RP = "va_raw"
LATEST_WINDOW_MS = 86_400_000  # latest() reads this much history; older series one by one
LATEST_RESCAN_S = 600.0  # ... and every series of the whole history this often
LATEST_OLDER_MAX = 50  # more older series than this: read the whole history at once
_INFLUX_FIELD = {"first_ts_ms": "first_ts", "last_ts_ms": "last_ts"}  # series.rollups.STAT_FIELDS → field
_REFUSED = (400, 413, 422)


class InfluxStore(InfluxRecords):
    """:class:`storage.base.Store` on InfluxDB (health, sequences and counters from
    :class:`storage.influx_records.InfluxRecords`). Build it with :func:`storage.factory.open_store`."""

    concurrent_reads = True  # one HTTP connection per thread: readers may ask in parallel

    def __init__(
        self,
        http: InfluxHttp,
        *,
        database: str,
        retention_policy: str | None = None,
        org: str | None = None,
        raw_retention_days: int | None = None,
    ) -> None:
        super().__init__()
        self.http = http
        self.database = database
        self.retention_policy = retention_policy
        self.org = org
        self.raw_retention_days = raw_retention_days
        self.version = "unknown"
        self._raw_rp: str | None = None
        self._lock = threading.Lock()
        self._marks = MarkWriter()
        self._known: set[tuple[str, str]] = set()  # (device, quantity) of every series latest() has seen
        self._scanned = -LATEST_RESCAN_S  # monotonic time latest() last read the whole history
        # the compiler's state; used only by the process that compiles (ville-autonome rollups)
        settle_ms = CLOCK_SKEW_MS + int(http.timeout_s * 1000)
        self._compiler = InfluxRollupCompiler(self, settle_ms=settle_ms, raw_retention_days=raw_retention_days)

    # ------------------------------------------------------------------ setup

    def connect(self) -> None:
        """Detect the version, create the database and the raw retention policy where 1.x allows it."""
        info = self.http.ping()
        self.version = info.version
        if info.major == 1:
            try:
                self.http.query(f"CREATE DATABASE {quote_ident(self.database)}", "", write=True)
            except StoreAuthError:  # a user with privileges on the database only: it must exist, and be ours
                self.http.query("SHOW MEASUREMENTS LIMIT 1", self.database)
            if self.raw_retention_days is not None:
                self._raw_rp = RAW_RP
                spec = f"{quote_ident(RAW_RP)} ON {quote_ident(self.database)} DURATION {self.raw_retention_days}d"
                try:
                    self.http.query(f"CREATE RETENTION POLICY {spec} REPLICATION 1", "", write=True)
                except StoreError:
                    self.http.query(f"ALTER RETENTION POLICY {spec}", "", write=True)
        elif self.raw_retention_days is not None:
            log.warning(
                "raw_retention_days is ignored on InfluxDB %s: set the bucket's retention instead", info.version
            )

    def ping(self) -> str:
        info = self.http.ping()
        return f"influxdb {info.version}"

    def source(self, measurement: str) -> str:
        """``measurement`` quoted for a FROM clause, with its retention policy."""
        rp = self._raw_rp if measurement in (READINGS, MARKS) and self._raw_rp else self.retention_policy
        if rp:
            return f"{quote_ident(rp)}.{quote_ident(measurement)}"
        return quote_ident(measurement)

    def query(self, q: str, *, epoch: str = "ms") -> list[dict[str, Any]]:
        """One InfluxQL statement on the database: its series."""
        return self.http.query(q, self.database, epoch=epoch)

    def _query(self, q: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return rows_of(self.query(q))

    # ------------------------------------------------------------------ writes

    def _post(self, body: bytes, *, raw: bool, precision: str = "ms", again: bool = True) -> tuple[int, str]:
        rp = self._raw_rp if raw and self._raw_rp else self.retention_policy
        if self.http.major >= 2:
            bucket = f"{self.database}/{rp}" if rp else self.database
            params = {"bucket": bucket, "precision": precision}
            if self.org:
                params["org"] = self.org
            r = self.http.request("POST", "/api/v2/write", params, body, "text/plain; charset=utf-8")
        else:
            params = {"db": self.database, "precision": precision}
            if rp:
                params["rp"] = rp
            r = self.http.request("POST", "/write", params, body, "text/plain; charset=utf-8")
        if r.status == 404 and self.http.major == 1 and again:
            self.connect()  # the database was dropped under us: create it and try once more
            return self._post(body, raw=raw, precision=precision, again=False)
        if r.status == 404:
            raise StoreAuthError(f"InfluxDB has no database (bucket) {self.database!r}: an operator must create it")
        return r.status, r.text()

    def write_lines(
        self, lines: Sequence[tuple[int, str]], *, raw: bool = True, precision: str = "ms"
    ) -> dict[int, str]:
        """Write ``(index, line)`` pairs; return index → reason for the lines the server refused.
        Raises :class:`StoreTransientError` when the server cannot take the write at all."""
        return self._write_indexed([ln for _, ln in lines], [i for i, _ in lines], raw=raw, precision=precision)

    def _write_indexed(
        self, lines: Sequence[str], indexes: Sequence[int], *, raw: bool = True, precision: str = "ms"
    ) -> dict[int, str]:
        """:meth:`write_lines` on the lines and their indexes side by side (no pair per line)."""
        if not lines:
            return {}
        return self._write_body(join_lines(lines), indexes, lines, raw=raw, precision=precision)

    def _write_body(
        self,
        body: bytes,
        indexes: Sequence[int],
        lines: Sequence[str] | None = None,
        *,
        raw: bool = True,
        precision: str = "ms",
    ) -> dict[int, str]:
        """Write a body of lines, ``indexes[k]`` naming line k; return index → reason for the lines
        the server refused: a refused write is split in halves until the bad lines are isolated
        (``lines``, else the body's lines)."""
        status, text = self._post(body, raw=raw, precision=precision)
        if status in (200, 204):
            return {}
        if status not in _REFUSED:
            raise StoreTransientError(f"InfluxDB write answered {status}: {_error_text(text)}")
        if len(indexes) == 1:
            return {indexes[0]: f"refused by InfluxDB ({status}): {_error_text(text)}"}
        lines = lines if lines is not None else body.decode("utf-8").split("\n")  # no line holds a newline
        mid = len(lines) // 2
        first = self._write_indexed(lines[:mid], indexes[:mid], raw=raw, precision=precision)
        return first | self._write_indexed(lines[mid:], indexes[mid:], raw=raw, precision=precision)

    def encode(self, points: Sequence[StoredReading]) -> Encoded:
        """The readings' line protocol (:func:`influx_wire.reading_lines.reading_lines`), ahead of
        :meth:`write`."""
        if isinstance(points, ReadingColumns):  # the ingest's fast path: no object per reading
            return Encoded(points, column_lines(points, ROLLUP_15M_MS))
        return Encoded(points, reading_lines(points, ROLLUP_15M_MS))

    def write(
        self, points: Sequence[StoredReading], *, sequences: Sequence[SequenceNote] = (), encoded: Encoded | None = None
    ) -> WriteResult:
        """One request: the readings line protocol can carry, then their dirty marks, then the
        sequence records (one fsync in InfluxDB per batch, not three): the marks are readable when
        the request has ended, as its points are (the compiler reads them a settling time later,
        longer than the request may take); a failed request is retried whole by the ingest."""
        if encoded is not None and encoded.points is points and isinstance(encoded.form, ReadingLines):
            body, rejected, touched = encoded.form
            rejected = dict(rejected)  # the encoded form stays as made: a retry starts from it again
        else:
            body, rejected, touched = reading_lines(points, ROLLUP_15M_MS)
        period, keys, marks = self._marks.lines(touched)
        extra = marks + self.sequence_lines(sequences)
        # the lines in the body, in order: the readings' indexes in ``points``, then the extra lines'
        indexes = [i for i in range(len(points)) if i not in rejected] if rejected else [*range(len(points))]
        if indexes and extra:
            body += b"\n" + join_lines(extra)
        elif extra:
            body = join_lines(extra)
        elif not indexes:
            return WriteResult(written=0, rejected=rejected)
        indexes += range(len(points), len(points) + len(extra))
        refused = self._write_body(body, indexes)
        rejected |= {i: why for i, why in refused.items() if i < len(points)}
        others = [why for i, why in refused.items() if i >= len(points)]
        if others:
            log.error("InfluxDB refused %d rollup mark or sequence lines: %s", len(others), others[0])
        self._marks.written(period, keys)
        if sequences:
            self.compact_when_due(max(n.received_ms for n in sequences))
        return WriteResult(written=len(points) - len(rejected), rejected=rejected)

    # ------------------------------------------------------------------ reads

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        """Since ``since_ms``, or else: the last day, plus each older series known (all of them read
        again from the whole history every ``LATEST_RESCAN_S``) — not the whole history each time."""
        if since_ms is not None:
            best = self._latest_where(f"time >= {ns(since_ms)}")
        elif time.monotonic() - self._scanned >= LATEST_RESCAN_S:
            best = self._latest_where("")
            self._scanned = time.monotonic()
        else:
            best = self._latest_where(f"time >= {ns(int(time.time() * 1000) - LATEST_WINDOW_MS)}")
            with self._lock:
                older = self._known - best.keys()
            if len(older) > LATEST_OLDER_MAX:
                best = self._latest_where("")
            elif older:
                either = " OR ".join(f"(device = {quote_string(d)} AND quantity = {quote_string(q)})" for d, q in older)
                best |= self._latest_where(f"({either})")
        with self._lock:
            self._known |= best.keys()
        return [best[k] for k in sorted(best)]

    def _latest_where(self, cond: str) -> dict[tuple[str, str], LatestValue]:
        """Per (device, quantity), its newest whole row among the two newest of each series:
        a point just written may not show its quality yet (1.x), so the one before it stands in."""
        where = f" WHERE {cond}" if cond else ""
        q = f"SELECT value, quality FROM {self.source(READINGS)}{where} GROUP BY * ORDER BY time DESC LIMIT 2"
        best: dict[tuple[str, str], LatestValue] = {}
        for tags, row in self._query(q):
            v = latest_from(tags, row)
            if v is None:
                continue
            key = (v.context.device, v.quantity)
            if key not in best or best[key].ts_ms < v.ts_ms:
                best[key] = v
        return best

    def _where(self, device: str, quantity: str, start_ms: int, end_ms: int) -> str:
        return (
            f"device = {quote_string(device)} AND quantity = {quote_string(quantity)} "
            f"AND time >= {ns(start_ms)} AND time < {ns(end_ms)}"
        )

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        q = (
            f"SELECT value, quality FROM {self.source(READINGS)} WHERE {self._where(device, quantity, start_ms, end_ms)} "
            f"ORDER BY time ASC LIMIT {int(limit)}"
        )
        return [p for _, r in self._query(q) if (p := series_point(r)) is not None]

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        return stats_from_columns(self.interval_columns(device, quantity, start_ms, end_ms, interval_s))

    def interval_columns(
        self,
        device: str,
        quantity: str,
        start_ms: int,
        end_ms: int,
        interval_s: int,
        *,
        fields: Sequence[str] = STAT_FIELDS,
    ) -> IntervalColumns:
        """:meth:`intervals` as numpy columns: only the asked fields are read, the answer goes
        straight into numpy."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:  # no rollup fits (interval or range not aligned on one): the raw good points
            q = (
                f"SELECT value FROM {self.source(READINGS)} WHERE {self._where(device, quantity, start_ms, end_ms)} "
                "AND quality = 'good' ORDER BY time ASC"
            )
            points = [(int(r["time"]), float(r["value"])) for _, r in self._query(q) if r.get("value") is not None]
            return columns_from_stats(aggregate(points, interval_ms), fields)
        measurement = ROLLUP_1D if source == ROLLUP_1D_MS else ROLLUP_15M
        names = tuple(dict.fromkeys(("count", *(fields if source == interval_ms else merge_inputs(fields)))))
        columns = [_INFLUX_FIELD.get(n, n) for n in names]
        select = ", ".join(quote_ident(c) for c in columns)
        q = f"SELECT {select} FROM {self.source(measurement)} WHERE {self._where(device, quantity, start_ms, end_ms)}"
        rows: list[list[Any]] = []
        for series in self.query(q):
            if series["columns"] == ["time", *columns]:
                rows.extend(series.get("values") or [])
            else:  # not in the order asked: put it in that order
                order = [series["columns"].index(c) for c in ("time", *columns)]
                rows.extend([values[i] for i in order] for values in series.get("values") or [])
        cols = columns_from(rollup_columns(rows, names), interval_ms, source)
        return {name: cols[name] for name in ("start_ms", *fields)}

    # ------------------------------------------------------------------ rollups

    def refresh_rollups(
        self,
        *,
        budget_s: float | None = None,
        on_compiled: Callable[[Sequence[RollupKey]], None] | None = None,
    ) -> int:
        return self._compiler.run(budget_s, on_compiled)

    def recent_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> IntervalColumns | None:
        """What :meth:`interval_columns` answers, from the statistics this store's compiler computed
        in its last pass, when they hold the whole window at 15 min; else None (read the store)."""
        return self._compiler.recent.columns(
            (device, quantity), start_ms, end_ms, check_fields(fields), interval_s * 1000
        )

    def balance_table(self) -> InfluxBalances:
        """The per-device day balances (:mod:`storage.influx_balances`)."""
        return InfluxBalances(self)

    def close(self) -> None:
        self.http.close()


def _error_text(text: str) -> str:
    """InfluxDB's reason for a refused write, on one line."""
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            text = str(doc.get("error") or doc.get("message") or text)
    except ValueError:
        pass
    return " ".join(text.split())[:300]
