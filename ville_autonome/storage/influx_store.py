# ruff: noqa: S608  (InfluxQL built only from storage.influxql quoting and integer times; tested for injection)
"""The InfluxDB backend (1.x, 2.x, 3 Core) behind :class:`storage.base.Store`; schema in docs/storage.md.

Writes are line protocol at ms precision over plain HTTP (:mod:`storage.influx_http`): the
ingest's own ack/retry loop is the only retry, nothing is buffered here. A write the server
refuses for what the points are (1.x ``400 partial write … dropped=N`` or ``unable to parse``;
2.x ``400``/``422``; ``413`` too large) is split in halves until the bad points are isolated: those
come back in ``WriteResult.rejected``, the good ones are written (re-writing a good point is
harmless: same series and timestamp replace the fields). Rollups (``rollup_15m``/``rollup_1d``)
are recomputed by the platform from raw points for the buckets a write touched, so they work the
same on every version (no continuous queries, no tasks). A bucket's need of a refresh is written
to the database (``rollup_pending``) *before* its raw points, and a checkpoint after each refresh,
so that a writer killed between its acknowledged write and the refresh leaves work that the next
start-up finds and does: acknowledged data always reaches the rollups.

Errors: :class:`StoreTransientError` (down, 5xx, auth), :class:`storage.influx_http.QueryError`
(a refused query).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.storage.base import (
    CLOSE_REFRESH_BUDGET_S,
    WRITE_REFRESH_BUDGET_S,
    IntervalStat,
    LatestValue,
    SequenceGap,
    SeriesPoint,
    StoreTransientError,
    WriteResult,
)
from ville_autonome.storage.influx_http import InfluxHttp, QueryError
from ville_autonome.storage.influx_rollup_stats import bucket_runs, changed_since, run_stats
from ville_autonome.storage.influx_rows import (
    READINGS,
    context_from,
    day_stats,
    empty_stat,
    reading_lines,
    rollup_columns,
    rows_of,
    series_tags,
    stat_from_row,
    stat_line,
)
from ville_autonome.storage.influxql import ns, quote_ident, quote_string
from ville_autonome.storage.line_protocol import LineProtocolError, join_lines, line
from ville_autonome.storage.rollups import (
    ROLLUP_1D_MS,
    ROLLUP_15M_MS,
    STAT_FIELDS,
    IntervalColumns,
    aggregate,
    bucket_start,
    check_fields,
    columns_from,
    columns_from_stats,
    intervals_from,
    merge_inputs,
    rollup_source,
)
from ville_autonome.storage.sequences import format_ranges, gaps_from, merge_ranges, parse_ranges, to_ranges

log = logging.getLogger(__name__)

BucketKey = tuple[str, str, int]  # device, quantity, 15-min bucket start (ms)
RUNS_PER_CHECK = 4  # runs of buckets refreshed (15 min, then days) before their aggregates are asked again

ROLLUP_15M = "rollup_15m"
ROLLUP_1D = "rollup_1d"
HEALTH = "device_health"
SEQUENCES = "ingest_sequences"
COUNTERS = "service_counters"
PENDING = "rollup_pending"  # durable marks of 15-min buckets written but not yet rolled up
CHECKPOINT = "rollup_checkpoint"  # wall-clock time of the last completed rollup refresh
# marks up to this much older than the checkpoint are re-read at start-up: a write caught between
# its mark and its refresh, clocks of several writers a little apart (redoing a bucket is harmless)
RECOVERY_MARGIN_MS = 300_000
RAW_RP = "va_raw"
COMPACTED = "_compacted"  # the worker tag of compacted sequence records
COMPACT_EVERY_MS = 60_000
COMPACT_AFTER_MS = 60_000  # records older than this are settled and folded
_STAT_FIELDS = ("count", "first", "last", "minimum", "maximum", "mean", "first_ts", "last_ts")
_INFLUX_FIELD = {"first_ts_ms": "first_ts", "last_ts_ms": "last_ts"}  # storage.rollups.STAT_FIELDS → field
_REFUSED = (400, 413, 422)


class InfluxStore:
    """:class:`storage.base.Store` on InfluxDB. Build it with :func:`storage.factory.open_store`."""

    concurrent_reads = True  # one HTTP connection per thread: readers may ask in parallel

    def __init__(
        self,
        http: InfluxHttp,
        *,
        database: str,
        retention_policy: str | None = None,
        org: str | None = None,
        raw_retention_days: int | None = None,
        rollup_refresh_s: float = 30.0,
    ) -> None:
        self.http = http
        self.database = database
        self.retention_policy = retention_policy
        self.org = org
        self.raw_retention_days = raw_retention_days
        self.rollup_refresh_s = rollup_refresh_s
        self.version = "unknown"
        self._raw_rp: str | None = None
        self._lock = threading.Lock()
        self._dirty: dict[tuple[str, str, int], DeviceContext] = {}
        self._marked: set[tuple[str, str, int]] = set()  # buckets with a durable pending mark
        self._mark_clock_ns = 0
        # marks of two writers (ingest workers) in the same ms would overwrite each other without it
        self._writer = uuid.uuid4().hex[:12]
        self._last_refresh = time.monotonic()
        self._last_seq_ts: dict[tuple[str, str], int] = {}
        self._last_compaction = 0

    # ------------------------------------------------------------------ setup

    def connect(self) -> None:
        """Detect the version, create the database and the raw retention policy where 1.x allows it."""
        info = self.http.ping()
        self.version = info.version
        if info.major == 1:
            self.http.query(f"CREATE DATABASE {quote_ident(self.database)}", "", write=True)
            if self.raw_retention_days is not None:
                self._raw_rp = RAW_RP
                spec = f"{quote_ident(RAW_RP)} ON {quote_ident(self.database)} DURATION {self.raw_retention_days}d"
                try:
                    self.http.query(f"CREATE RETENTION POLICY {spec} REPLICATION 1", "", write=True)
                except Exception:
                    self.http.query(f"ALTER RETENTION POLICY {spec}", "", write=True)
        elif self.raw_retention_days is not None:
            log.warning(
                "raw_retention_days is ignored on InfluxDB %s: set the bucket's retention instead", info.version
            )
        self._recover_pending()

    def _recover_pending(self) -> None:
        """Buckets marked pending since the last checkpoint (a writer died before rolling them up)
        join the in-memory work list; the next write's refresh does them."""
        rows = self._query(f"SELECT last(refreshed_ms) FROM {quote_ident(CHECKPOINT)}")
        checkpoint = int(rows[0][1]["last"]) if rows and rows[0][1].get("last") is not None else 0
        since = max(checkpoint - RECOVERY_MARGIN_MS, 0)
        q = f"SELECT bucket_ms FROM {self._from(PENDING)} WHERE time >= {ns(since)} GROUP BY *"
        found = 0
        with self._lock:
            for tags, r in self._query(q):
                if r.get("bucket_ms") is None:
                    continue
                key = (tags.get("device", ""), tags.get("quantity", ""), int(r["bucket_ms"]))
                if key not in self._dirty:
                    self._dirty[key] = context_from(tags, r)
                    self._marked.add(key)
                    found += 1
            if found:
                self._last_refresh = 0.0  # refresh at the next write
        if found:
            log.warning("%d rollup buckets were written but not rolled up before a stop: refreshing them", found)

    def ping(self) -> str:
        info = self.http.ping()
        return f"influxdb {info.version}"

    def _from(self, measurement: str) -> str:
        rp = self._raw_rp if measurement in (READINGS, PENDING) and self._raw_rp else self.retention_policy
        if rp:
            return f"{quote_ident(rp)}.{quote_ident(measurement)}"
        return quote_ident(measurement)

    def _query(self, q: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return rows_of(self.http.query(q, self.database))

    def _series_of(self, q: str) -> list[dict[str, Any]]:
        return self.http.query(q, self.database)

    # ------------------------------------------------------------------ writes

    def _post(self, body: bytes, *, raw: bool, precision: str = "ms") -> tuple[int, str]:
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
        if r.status == 404 and self.http.major == 1:
            self.connect()  # the database was dropped under us: create it and try once more
            return self._post(body, raw=raw, precision=precision)
        return r.status, r.text()

    def write_lines(
        self, lines: Sequence[tuple[int, str]], *, raw: bool = True, precision: str = "ms"
    ) -> dict[int, str]:
        """Write ``(index, line)`` pairs; return index → reason for the lines the server refused.
        Raises :class:`StoreTransientError` when the server cannot take the write at all."""
        if not lines:
            return {}
        status, text = self._post(join_lines(ln for _, ln in lines), raw=raw, precision=precision)
        if status in (200, 204):
            return {}
        if status not in _REFUSED:
            raise StoreTransientError(f"InfluxDB write answered {status}: {text[:200]}")
        if len(lines) == 1:
            return {lines[0][0]: f"refused by InfluxDB ({status}): {_error_text(text)}"}
        mid = len(lines) // 2
        return self.write_lines(lines[:mid], raw=raw, precision=precision) | self.write_lines(
            lines[mid:], raw=raw, precision=precision
        )

    def write(self, points: Sequence[StoredReading]) -> WriteResult:
        lines, rejected, touched = reading_lines(points, ROLLUP_15M_MS)
        self._mark_pending(touched)  # durable before the raw points: a crash after them loses no rollup
        rejected |= self.write_lines(lines)
        written = len(points) - len(rejected)
        with self._lock:
            self._dirty.update(touched)
        if written and time.monotonic() - self._last_refresh >= self.rollup_refresh_s:
            self.refresh_rollups(budget_s=WRITE_REFRESH_BUDGET_S)
        return WriteResult(written=written, rejected=rejected)

    def _mark_pending(self, touched: Mapping[tuple[str, str, int], DeviceContext]) -> None:
        """Write one ``rollup_pending`` point per bucket not yet marked since the last refresh.
        Each mark has its own timestamp, in nanoseconds (a clock that only moves forward: a
        backfill's million marks stay within a millisecond of the wall clock, so none looks newer
        than a later checkpoint), and its writer's tag, so that no mark ever overwrites another."""
        with self._lock:
            new = [(k, ctx) for k, ctx in touched.items() if k not in self._marked]
            if not new:
                return
            base = max(time.time_ns(), self._mark_clock_ns)
            self._mark_clock_ns = base + len(new)
        lines = [
            (i, line(PENDING, {**series_tags(ctx, qty), "writer": self._writer}, {"bucket_ms": float(b)}, base + i))
            for i, ((_, qty, b), ctx) in enumerate(new)
        ]
        refused = self.write_lines(lines, raw=True, precision="ns")  # unavailable: nothing written, caller retries
        if refused:
            log.error("InfluxDB refused %d rollup marks, e.g. %s", len(refused), next(iter(refused.values())))
        with self._lock:
            self._marked.update(k for k, _ in new)

    # ------------------------------------------------------------------ reads

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        where = f" WHERE time >= {ns(since_ms)}" if since_ms is not None else ""
        rows = self._query(f"SELECT * FROM {self._from(READINGS)}{where} GROUP BY * ORDER BY time DESC LIMIT 1")
        best: dict[tuple[str, str], LatestValue] = {}
        for tags, row in rows:
            ctx = context_from(tags, row)
            v = LatestValue(
                ctx, str(tags.get("quantity", "")), int(row["time"]), _float(row.get("value")), Quality(row["quality"])
            )
            key = (ctx.device, v.quantity)
            if key not in best or best[key].ts_ms < v.ts_ms:
                best[key] = v
        return [best[k] for k in sorted(best)]

    def _where(self, device: str, quantity: str, start_ms: int, end_ms: int) -> str:
        return (
            f"device = {quote_string(device)} AND quantity = {quote_string(quantity)} "
            f"AND time >= {ns(start_ms)} AND time < {ns(end_ms)}"
        )

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        q = (
            f"SELECT value, quality FROM {self._from(READINGS)} WHERE {self._where(device, quantity, start_ms, end_ms)} "
            f"ORDER BY time ASC LIMIT {int(limit)}"
        )
        return [SeriesPoint(int(r["time"]), _float(r.get("value")), Quality(r["quality"])) for _, r in self._query(q)]

    def _good_points(self, device: str, quantity: str, start_ms: int, end_ms: int) -> list[tuple[int, float]]:
        q = (
            f"SELECT value FROM {self._from(READINGS)} WHERE {self._where(device, quantity, start_ms, end_ms)} "
            "AND quality = 'good' ORDER BY time ASC"
        )
        return [(int(r["time"]), float(r["value"])) for _, r in self._query(q) if r.get("value") is not None]

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:
            return aggregate(self._good_points(device, quantity, start_ms, end_ms), interval_ms)
        self.refresh_rollups()
        measurement = ROLLUP_1D if source == ROLLUP_1D_MS else ROLLUP_15M
        fields = ", ".join(quote_ident(f) for f in _STAT_FIELDS)
        q = f"SELECT {fields} FROM {self._from(measurement)} WHERE {self._where(device, quantity, start_ms, end_ms)}"
        stats = sorted((stat_from_row(r) for _, r in self._query(q)), key=lambda s: s.start_ms)
        return intervals_from([s for s in stats if s.count > 0], interval_ms, source)

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
        """:meth:`intervals` as numpy columns (``start_ms`` and ``fields`` of
        ``storage.rollups.STAT_FIELDS``): the same numbers, only the asked fields read, no Python
        object per interval. Not part of the Store protocol (``SqliteStore`` has it too)."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:  # no rollup fits: raw points, as intervals()
            return columns_from_stats(self.intervals(device, quantity, start_ms, end_ms, interval_s), fields)
        self.refresh_rollups()
        measurement = ROLLUP_1D if source == ROLLUP_1D_MS else ROLLUP_15M
        names = tuple(dict.fromkeys(("count", *(fields if source == interval_ms else merge_inputs(fields)))))
        columns = [_INFLUX_FIELD.get(n, n) for n in names]
        select = ", ".join(quote_ident(c) for c in columns)
        q = f"SELECT {select} FROM {self._from(measurement)} WHERE {self._where(device, quantity, start_ms, end_ms)}"
        rows: list[list[Any]] = []
        for series in self.http.query(q, self.database):
            if series["columns"] != ["time", *columns]:
                raise QueryError(f"InfluxDB answered columns {series['columns']!r} to {q[:120]!r}")
            rows.extend(series.get("values") or [])
        cols = columns_from(rollup_columns(rows, names), interval_ms, source)
        return {name: cols[name] for name in ("start_ms", *fields)}

    # ------------------------------------------------------------------ rollups

    def refresh_rollups(self, *, budget_s: float | None = None) -> int:
        started_ms = int(time.time() * 1000)
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            self._marked.difference_update(dirty)
            self._last_refresh = time.monotonic()
        if not dirty:
            return 0
        try:
            n, stale, left = self._refresh(dirty, deadline)
        except Exception:
            with self._lock:
                for k, v in dirty.items():
                    self._dirty.setdefault(k, v)
                    self._marked.add(k)  # its durable mark is still there
            raise
        if stale:
            # redone at the next refresh, and marked again durably (newer than the checkpoint below)
            log.debug("%d rollup buckets changed while they were refreshed: redone next time", len(stale))
            with self._lock:
                for k, v in stale.items():
                    self._dirty.setdefault(k, v)
                self._last_refresh = 0.0
            self._mark_pending(stale)
        if left:
            # not done within the budget: still dirty, and their durable marks stay valid because
            # no checkpoint is written until a refresh has done everything it found
            with self._lock:
                for k, v in left.items():
                    self._dirty.setdefault(k, v)
                    self._marked.add(k)
            log.info("%d rollup buckets left for the next refresh (budget %.1f s)", len(left), budget_s or 0.0)
            return n
        # every mark older than this refresh's start is done (a write marks before it joins _dirty;
        # the start-up re-read keeps a margin for a write caught between the two)
        checkpoint = line(CHECKPOINT, {}, {"refreshed_ms": float(started_ms)}, started_ms)
        self.write_lines([(0, checkpoint)], raw=False)
        return n

    def _refresh(
        self, dirty: dict[BucketKey, DeviceContext], deadline: float | None
    ) -> tuple[int, dict[BucketKey, DeviceContext], dict[BucketKey, DeviceContext]]:
        """Recompute the rollups of ``dirty`` (group after group of runs, until ``deadline``);
        return how many 15-min rollups were written, the buckets found stale right after (another
        writer's points landed meanwhile: redo them), and the buckets left for later."""
        cutoff = None
        if self._raw_rp and self.raw_retention_days is not None:
            cutoff = bucket_start(int(time.time() * 1000) - self.raw_retention_days * ROLLUP_1D_MS, ROLLUP_15M_MS)
        by_bucket: dict[int, dict[tuple[str, str], DeviceContext]] = {}
        for (device, qty, b), ctx in dirty.items():
            if cutoff is None or b >= cutoff:
                by_bucket.setdefault(b, {})[(device, qty)] = ctx
        written = 0
        stale: dict[BucketKey, DeviceContext] = {}
        series = len({k for keys in by_bucket.values() for k in keys})
        source = self._from(READINGS)
        runs = bucket_runs(by_bucket, series)
        left: dict[BucketKey, DeviceContext] = {}
        for first in range(0, len(runs), RUNS_PER_CHECK):
            if first and deadline is not None and time.monotonic() >= deadline:
                for run in runs[first:]:
                    for b in run:
                        left.update({(d, q, b): ctx for (d, q), ctx in by_bucket[b].items()})
                break
            checks: list[tuple[str, list[int], dict[BucketKey, IntervalStat]]] = []
            days: dict[int, dict[tuple[str, str], tuple[DeviceContext, int]]] = {}  # day → series → (ctx, a bucket)
            for run in runs[first : first + RUNS_PER_CHECK]:
                devices = sorted({d for b in run for d, _ in by_bucket[b]})
                cond = " OR ".join(f"device = {quote_string(d)}" for d in devices)
                found = run_stats(self._series_of, source, cond, run)
                stats: dict[BucketKey, IntervalStat] = {}
                lines: list[tuple[int, str]] = []
                for b in run:
                    for (device, qty), ctx in by_bucket[b].items():
                        stat = found.get((device, qty, b)) or empty_stat(b)
                        stats[(device, qty, b)] = stat
                        lines.append((len(lines), stat_line(ROLLUP_15M, ctx, qty, stat)))
                        days.setdefault(bucket_start(b, ROLLUP_1D_MS), {})[(device, qty)] = (ctx, b)
                self._write_rollups(lines)
                written += len(lines)
                checks.append((cond, run, stats))
            for d, keys in sorted(days.items()):  # a day cut by two groups of runs is merged twice: right both times
                merged = self._day_stats(d, keys)
                self._write_rollups(
                    [(i, stat_line(ROLLUP_1D, keys[k][0], k[1], stat)) for i, (k, stat) in enumerate(merged.items())]
                )
            # asked last: a raw point that any rollup written above missed (another writer's, whose
            # own refresh may have landed first) changes the aggregates; its buckets are redone
            for cond, run, stats in checks:
                for key in changed_since(self._series_of, source, cond, run, stats):
                    stale[key] = by_bucket[key[2]][key[:2]]
        return written, stale, left

    def _day_stats(
        self, d: int, keys: Mapping[tuple[str, str], tuple[DeviceContext, int]]
    ) -> dict[tuple[str, str], IntervalStat]:
        """The day ``d`` of each series of ``keys``, merged from its 15-min rollups."""
        devices = sorted({dev for dev, _ in keys})
        cond = " OR ".join(f"device = {quote_string(dev)}" for dev in devices)
        fields = ", ".join(quote_ident(f) for f in _STAT_FIELDS)
        q = (
            f"SELECT {fields} FROM {self._from(ROLLUP_15M)} WHERE ({cond}) AND time >= {ns(d)} "
            f"AND time < {ns(d + ROLLUP_1D_MS)} GROUP BY device, quantity"
        )
        return day_stats(self._query(q), d, keys)

    def _write_rollups(self, lines: list[tuple[int, str]]) -> None:
        for i in range(0, len(lines), 5000):
            refused = self.write_lines(lines[i : i + 5000], raw=False)
            if refused:
                log.error("InfluxDB refused %d rollup points, e.g. %s", len(refused), next(iter(refused.values())))

    # ------------------------------------------------------------------ health, sequences, counters

    def write_health(self, records: Sequence[DeviceHealth]) -> None:
        lines = []
        for i, h in enumerate(records):
            fields: dict[str, float | str | bool] = {
                "online": bool(h.online),
                "updated_ms": float(h.updated_ms),
                "last_quality": h.last_quality,
                "errors": json.dumps(h.errors, sort_keys=True),
            }
            if h.last_seen_ms is not None:
                fields["last_seen_ms"] = float(h.last_seen_ms)
            try:
                lines.append((i, line(HEALTH, {"device": h.device, "gateway": h.gateway}, fields, h.updated_ms)))
            except LineProtocolError as exc:
                log.error("device health of %r not stored: %s", h.device, exc)
        refused = self.write_lines(lines, raw=False)
        for i, reason in refused.items():
            log.error("device health of %r refused: %s", records[i].device, reason)

    def health(self) -> list[DeviceHealth]:
        rows = self._query(f"SELECT * FROM {self._from(HEALTH)} GROUP BY device ORDER BY time DESC LIMIT 1")
        out = []
        for tags, r in rows:
            last_seen = r.get("last_seen_ms")
            out.append(
                DeviceHealth(
                    device=str(tags.get("device", "")),
                    gateway=str(r.get("gateway") or ""),
                    online=bool(r.get("online")),
                    last_seen_ms=int(last_seen) if last_seen is not None else None,
                    updated_ms=int(r.get("updated_ms") or r["time"]),
                    last_quality=str(r.get("last_quality") or ""),
                    errors={str(k): int(v) for k, v in json.loads(r.get("errors") or "{}").items()},
                )
            )
        return sorted(out, key=lambda h: h.device)

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        if not seqs:
            return
        with self._lock:  # one point per (gateway, worker, ms): never overwrite an earlier record
            ts = max(received_ms, self._last_seq_ts.get((gateway, worker), -1) + 1)
            self._last_seq_ts[(gateway, worker)] = ts
            compact = received_ms - self._last_compaction >= COMPACT_EVERY_MS
            if compact:
                self._last_compaction = received_ms
        text = format_ranges(to_ranges(seqs))
        refused = self.write_lines([(0, line(SEQUENCES, {"gateway": gateway, "worker": worker}, {"ranges": text}, ts))])
        if refused:
            raise StoreTransientError(f"InfluxDB refused the sequence record of {gateway!r}: {refused[0]}")
        if compact:
            self.compact_sequences(received_ms - COMPACT_AFTER_MS)

    def _compacted(self, gateway: str | None) -> dict[str, tuple[int, str]]:
        """The latest compacted record per gateway: (watermark ms, ranges)."""
        gw = f" AND gateway = {quote_string(gateway)}" if gateway is not None else ""
        q = (
            f"SELECT ranges FROM {self._from(SEQUENCES)} WHERE worker = {quote_string(COMPACTED)}{gw} "
            "GROUP BY gateway ORDER BY time DESC LIMIT 1"
        )
        return {str(t.get("gateway", "")): (int(r["time"]), str(r["ranges"])) for t, r in self._query(q)}

    def _gateways(self) -> list[str]:
        series = self.http.query(f"SHOW TAG VALUES FROM {self._from(SEQUENCES)} WITH KEY = gateway", self.database)
        return sorted({str(v[1]) for s in series for v in s.get("values") or []})

    def compact_sequences(self, watermark_ms: int) -> None:
        """Fold each gateway's records up to ``watermark_ms`` into one compacted record (tag
        ``worker=_compacted``) so that :meth:`gaps` reads a bounded number of points. Idempotent and
        safe with several workers: records that old are settled, and a union is a union."""
        compacted = self._compacted(None)
        out = []
        for i, gateway in enumerate(self._gateways()):
            since, text = compacted.get(gateway, (-1, ""))
            if watermark_ms <= since:
                continue
            q = (
                f"SELECT ranges FROM {self._from(SEQUENCES)} WHERE gateway = {quote_string(gateway)} "
                f"AND worker != {quote_string(COMPACTED)} AND time > {ns(since)} AND time <= {ns(watermark_ms)}"
            )
            rows = [str(r["ranges"]) for _, r in self._query(q)]
            if not rows:
                continue
            merged = merge_ranges([rg for t in [text, *rows] for rg in parse_ranges(t)])
            tags = {"gateway": gateway, "worker": COMPACTED}
            out.append((i, line(SEQUENCES, tags, {"ranges": format_ranges(merged)}, watermark_ms)))
        if out:
            self.write_lines(out, raw=False)

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        compacted = self._compacted(gateway)
        gateways = [gateway] if gateway is not None else self._gateways()
        since = min((compacted.get(g, (-1, ""))[0] for g in gateways), default=-1)
        gw = f" AND gateway = {quote_string(gateway)}" if gateway is not None else ""
        q = (
            f"SELECT ranges FROM {self._from(SEQUENCES)} WHERE worker != {quote_string(COMPACTED)}{gw} "
            f"AND time > {ns(since)} GROUP BY gateway"
        )
        rows = [(str(t.get("gateway", "")), str(r["ranges"])) for t, r in self._query(q)]
        rows += [(g, text) for g, (_, text) in compacted.items()]
        return gaps_from(rows)

    def write_counters(self, service: str, counters: Mapping[str, float]) -> None:
        if not counters:
            return
        fields: dict[str, float | str | bool] = {k: float(v) for k, v in counters.items()}
        ts = int(time.time() * 1000)
        refused = self.write_lines([(0, line(COUNTERS, {"service": service}, fields, ts))], raw=False)
        if refused:
            raise StoreTransientError(f"InfluxDB refused the counters of {service!r}: {refused[0]}")

    def counters(self) -> dict[str, dict[str, float]]:
        rows = self._query(f"SELECT * FROM {self._from(COUNTERS)} GROUP BY service ORDER BY time DESC LIMIT 1")
        out: dict[str, dict[str, float]] = {}
        for tags, r in rows:
            out[str(tags.get("service", ""))] = {
                k: float(v) for k, v in r.items() if k != "time" and isinstance(v, int | float)
            }
        return out

    def close(self) -> None:
        try:
            self.refresh_rollups(budget_s=CLOSE_REFRESH_BUDGET_S)
        except Exception as exc:
            log.warning("rollups not refreshed at close: %s", exc)
        finally:
            self.http.close()


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def _error_text(text: str) -> str:
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            return str(doc.get("error") or doc.get("message") or text)[:300]
    except ValueError:
        pass
    return text[:300]
