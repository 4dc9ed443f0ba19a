# ruff: noqa: S608  (InfluxQL built only from influx_wire.influxql quoting and integer times)
"""Day balances on InfluxDB (:mod:`series.balance_days`): measurement ``balance_days`` (tags
``device``, ``site``, ``district``, ``interval``; field ``data``, the encoded day in base64; time:
the day) and ``balance_state`` (tag ``interval``; field ``doc``), through the default retention
policy, like the rollups. Not compiled yet: the marks from the rollup compiler's cursor on
(:mod:`storage.influx_rollups`); an ``again`` mark names no series, so its buckets count for every
device."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ville_autonome.influx_wire.influxql import ns, quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import line
from ville_autonome.influx_wire.marks import MARKS, buckets_of
from ville_autonome.influx_wire.marks import decode as decode_mark
from ville_autonome.influx_wire.rows import rollup_columns, rows_of
from ville_autonome.series.balance_days import (
    DAY_MS,
    BalanceDay,
    BalanceState,
    Outstanding,
    decode,
    encode,
    state_doc,
    state_from_doc,
)
from ville_autonome.series.rollups import (
    ROLLUP_1D_MS,
    IntervalColumns,
    check_fields,
    columns_from,
    merge_inputs,
    rollup_source,
)
from ville_autonome.storage.base import StoreRejectedError
from ville_autonome.storage.influx_records import InfluxRecords
from ville_autonome.storage.influx_rollups import CURSOR

log = logging.getLogger(__name__)

DAYS = "balance_days"
STATE = "balance_state"
PENDING = "balance_pending"  # days to compile again (field days: JSON [[device, day ms], …]), time in ns
SETTLED = "balance_settled"  # every pending point up to its time (ns) is compiled
ROWS_PER_QUERY = 8_000  # under the 10,000-row limit of older 1.x servers
OUTSTANDING_MARKS_MAX = 2_000  # marks listed one by one; more: everything counts as not compiled
LINES_PER_WRITE = 500
_FIELD = {"first_ts_ms": "first_ts", "last_ts_ms": "last_ts"}  # series.rollups.STAT_FIELDS → rollup field


class InfluxBalances:
    """:class:`series.balance_days.BalanceTable` on an :class:`storage.influx_store.InfluxStore`."""

    def __init__(self, db: InfluxRecords) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._clock_ns = 0  # the last pending point written or read: a forward-only clock

    def write_days(self, days: Sequence[BalanceDay]) -> None:
        lines = [
            (
                i,
                line(
                    DAYS,
                    {"device": d.device, "site": d.site, "district": d.district, "interval": str(d.interval_s)},
                    {"data": base64.b64encode(encode(d)).decode("ascii")},
                    d.day_ms,
                ),
            )
            for i, d in enumerate(days)
        ]
        for i in range(0, len(lines), LINES_PER_WRITE):
            refused = self.db.write_lines(lines[i : i + LINES_PER_WRITE], raw=False)
            if refused:
                log.error("InfluxDB refused %d balance days, e.g. %s", len(refused), next(iter(refused.values())))

    def read_days(
        self, interval_s: int, start_ms: int, end_ms: int, devices: Collection[str]
    ) -> dict[str, dict[int, BalanceDay]]:
        wanted = set(devices)
        out: dict[str, dict[int, BalanceDay]] = {}
        if not wanted:
            return out
        step = max(1, ROWS_PER_QUERY // len(wanted)) * DAY_MS
        named = (
            "(" + " OR ".join(f"device = {quote_string(d)}" for d in sorted(wanted)) + ") AND "
            if len(wanted) <= 50
            else ""
        )
        for lo in range(start_ms, end_ms, step):
            q = (
                f"SELECT data FROM {self.db.source(DAYS)} WHERE {named}{quote_ident('interval')} = "
                f"{quote_string(str(interval_s))} AND time >= {ns(lo)} AND time < {ns(min(lo + step, end_ms))} "
                "GROUP BY device"
            )
            for tags, row in rows_of(self.db.query(q)):
                device = str(tags.get("device", ""))
                data = row.get("data")
                if device not in wanted or not isinstance(data, str) or not isinstance(row.get("time"), int):
                    continue
                try:
                    day = decode(binascii.a2b_base64(data, strict_mode=True))
                except (ValueError, binascii.Error):
                    continue  # not ours: as not compiled
                if day.device == device and day.day_ms == row["time"] and day.interval_s == interval_s:
                    out.setdefault(device, {})[day.day_ms] = day
        return out

    def rollup_columns(
        self, series: Collection[tuple[str, str]], start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> dict[tuple[str, str], IntervalColumns] | None:
        """What ``InfluxStore.interval_columns`` answers for each of ``series`` (device, quantity)
        over [start_ms, end_ms) — the same rollup rows into the same columns —, a few queries for
        all of them (``GROUP BY device, quantity``, under :data:`ROWS_PER_QUERY` rows each); None
        when no rollup fits the window (the caller then reads each series alone)."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        wanted = sorted(set(series))
        if source is None or not wanted:
            return None if source is None else {}
        names = tuple(dict.fromkeys(("count", *(fields if source == interval_ms else merge_inputs(fields)))))
        select = ", ".join(quote_ident(_FIELD.get(n, n)) for n in names)
        measurement = "rollup_1d" if source == ROLLUP_1D_MS else "rollup_15m"
        per_query = max(1, ROWS_PER_QUERY // max(1, (end_ms - start_ms) // source))
        rows: dict[tuple[str, str], list[list[Any]]] = {k: [] for k in wanted}
        for i in range(0, len(wanted), per_query):
            part = wanted[i : i + per_query]
            devices = " OR ".join(f"device = {quote_string(d)}" for d in sorted({d for d, _ in part}))
            quantities = " OR ".join(f"quantity = {quote_string(q)}" for q in sorted({q for _, q in part}))
            q = (
                f"SELECT {select} FROM {self.db.source(measurement)} WHERE ({devices}) AND ({quantities}) "
                f"AND time >= {ns(start_ms)} AND time < {ns(end_ms)} GROUP BY device, quantity"
            )
            _collect(self.db.query(q), [_FIELD.get(n, n) for n in ("time", *names)], rows)
        out = {}
        for key, got in rows.items():
            cols = columns_from(rollup_columns(got, names), interval_ms, source)
            out[key] = {name: cols[name] for name in ("start_ms", *fields)}
        return out

    def state(self, interval_s: int) -> BalanceState | None:
        q = f"SELECT last(doc) FROM {self.db.source(STATE)} WHERE {quote_ident('interval')} = {quote_string(str(interval_s))}"
        for _, row in rows_of(self.db.query(q)):
            doc = row.get("last")
            return state_from_doc(doc if isinstance(doc, str) else None, interval_s)
        return None

    def write_state(self, state: BalanceState) -> None:
        ts = max(state.updated_ms, 1)
        text = line(STATE, {"interval": str(state.interval_s)}, {"doc": state_doc(state)}, ts)
        refused = self.db.write_lines([(0, text)], raw=False)
        if refused:
            log.error("InfluxDB refused the balance state: %s", refused[0])

    def outstanding(self, start_ms: int, end_ms: int) -> Outstanding:
        rows = self.db.query(f"SELECT last(done) FROM {self.db.source(CURSOR)}")
        values = rows[0].get("values") if rows else None
        cursor_ms = int(values[0][0]) if values else 0
        q = (
            f"SELECT dirty, again FROM {self.db.source(MARKS)} WHERE time >= {ns(cursor_ms)} "
            f"ORDER BY time ASC LIMIT {OUTSTANDING_MARKS_MAX + 1}"
        )
        marks = rows_of(self.db.query(q))
        if len(marks) > OUTSTANDING_MARKS_MAX:
            return Outstanding(everything=True)
        by_series: dict[tuple[str, str], set[int]] = {}
        any_series: set[int] = set()
        for _, row in marks:
            try:
                keys = decode_mark(row["dirty"]) if isinstance(row.get("dirty"), str) else {}
                again = buckets_of(row["again"]) if isinstance(row.get("again"), str) else set()
            except ValueError:
                return Outstanding(everything=True)  # a mark we cannot read: nothing is known compiled
            for device, quantity, bucket in keys:
                if start_ms <= bucket < end_ms:
                    by_series.setdefault((device, quantity), set()).add(bucket)
            any_series.update(b for b in again if start_ms <= b < end_ms)
        return Outstanding({k: sorted(v) for k, v in by_series.items()}, sorted(any_series))

    def defer(self, interval_s: int, days: Mapping[str, Collection[int]]) -> None:
        pairs = sorted([device, int(day)] for device, ds in days.items() for day in ds)
        if not pairs:
            return
        with self._lock:
            self._clock_ns = max(time.time_ns(), self._clock_ns + 1)
            at = self._clock_ns
        text = line(PENDING, {"interval": str(interval_s)}, {"days": json.dumps(pairs)}, 0).rsplit(" ", 1)[0]
        refused = self.db.write_lines([(0, f"{text} {at}")], raw=False, precision="ns")
        if refused:
            raise StoreRejectedError(f"InfluxDB refused the days to compile again: {refused[0]}")

    def deferred(self, interval_s: int) -> dict[str, set[int]]:
        tag = f"{quote_ident('interval')} = {quote_string(str(interval_s))}"
        rows = self.db.query(f"SELECT last(done) FROM {self.db.source(SETTLED)} WHERE {tag}", epoch="ns")
        values = rows[0].get("values") if rows else None
        settled = int(values[0][0]) if values else 0
        out: dict[str, set[int]] = {}
        for _, row in rows_of(
            self.db.query(f"SELECT days FROM {self.db.source(PENDING)} WHERE {tag} AND time > {settled}", epoch="ns")
        ):
            with self._lock:
                self._clock_ns = max(self._clock_ns, int(row.get("time") or 0))
            try:
                for device, day in json.loads(str(row.get("days"))):
                    out.setdefault(str(device), set()).add(int(day))
            except (ValueError, TypeError):
                continue  # not ours
        return out

    def settle(self, interval_s: int, days: Mapping[str, Collection[int]], *, everything: bool) -> None:
        if not everything:
            return  # forgotten only all at once, when the compiler has compiled every day noted
        with self._lock:
            at = self._clock_ns
        if not at:
            return
        text = line(SETTLED, {"interval": str(interval_s)}, {"done": 1.0}, 0).rsplit(" ", 1)[0]
        refused = self.db.write_lines([(0, f"{text} {at}")], raw=False, precision="ns")
        if refused:
            raise StoreRejectedError(f"InfluxDB refused the compiled days: {refused[0]}")


def _collect(answer: list[dict[str, Any]], columns: list[str], rows: dict[tuple[str, str], list[list[Any]]]) -> None:
    """The values of each series of ``answer`` (grouped by device and quantity) in the order of
    ``columns``, appended to its (device, quantity) in ``rows``; other series are left out."""
    for s in answer:
        tags = s.get("tags") or {}
        got = rows.get((str(tags.get("device", "")), str(tags.get("quantity", ""))))
        cols = s.get("columns") or []
        if got is None or not all(c in cols for c in columns):
            continue
        order = [cols.index(c) for c in columns]
        got.extend([values[j] for j in order] for values in s.get("values") or [])
