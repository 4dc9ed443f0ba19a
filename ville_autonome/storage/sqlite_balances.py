# ruff: noqa: S608  (table names are this module's constants)
"""Day balances in the embedded store (:mod:`series.balance_days`): table ``balance_days``, one
row per (device, interval, day) holding the encoded day, and ``balance_state``, what the compiler
has compiled. Created by the first write (a store that never compiled balances has none: every
read says so). Not compiled yet: the buckets still marked in ``rollup_marks``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import groupby
from typing import Protocol, TypeVar

from ville_autonome.series.balance_days import (
    BalanceDay,
    BalanceState,
    IntervalColumns,
    Outstanding,
    decode,
    encode,
    state_doc,
    state_from_doc,
)
from ville_autonome.series.rollups import (
    ROLLUP_1D_MS,
    check_fields,
    columns_from,
    columns_from_rows,
    merge_inputs,
    rollup_source,
)

T = TypeVar("T")
OUTSTANDING_MAX = 200_000  # marks listed one by one; more: everything counts as not compiled

_SCHEMA = """
CREATE TABLE IF NOT EXISTS balance_days (device TEXT NOT NULL, interval_s INTEGER NOT NULL, day_ms INTEGER NOT NULL,
    site TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device, interval_s, day_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balance_state (interval_s INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balance_pending (device TEXT NOT NULL, interval_s INTEGER NOT NULL, day_ms INTEGER NOT NULL,
    PRIMARY KEY (device, interval_s, day_ms)) WITHOUT ROWID;
"""


class Runner(Protocol):
    """``SqliteStore._run``: a function of the connection, under the store's lock, errors translated."""

    def __call__(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
    return bool(row[0])


class SqliteBalances:
    """:class:`series.balance_days.BalanceTable` on a :class:`storage.sqlite_store.SqliteStore`'s connection."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def write_days(self, days: Sequence[BalanceDay]) -> None:
        rows = [(d.device, d.interval_s, d.day_ms, d.site, encode(d)) for d in days]

        def tx(db: sqlite3.Connection) -> None:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO balance_days VALUES (?,?,?,?,?)", rows)
            db.execute("COMMIT")

        if rows:
            self._run(tx)

    def read_days(
        self, interval_s: int, start_ms: int, end_ms: int, devices: Collection[str]
    ) -> dict[str, dict[int, BalanceDay]]:
        wanted = sorted(devices)

        def read(db: sqlite3.Connection) -> list[tuple[str, int, bytes]]:
            if not wanted or not _has_table(db, "balance_days"):
                return []
            marks = ",".join("?" * len(wanted))
            return db.execute(
                f"SELECT device, day_ms, data FROM balance_days WHERE device IN ({marks}) AND interval_s = ? "
                "AND day_ms >= ? AND day_ms < ?",
                (*wanted, interval_s, start_ms, end_ms),
            ).fetchall()

        out: dict[str, dict[int, BalanceDay]] = {}
        for device, day_ms, data in self._run(read):
            try:
                day = decode(data)
            except ValueError:
                continue  # not ours: as not compiled
            if day.device == device and day.day_ms == day_ms and day.interval_s == interval_s:
                out.setdefault(device, {})[day_ms] = day
        return out

    def rollup_columns(
        self, series: Collection[tuple[str, str]], start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> dict[tuple[str, str], IntervalColumns] | None:
        """What ``SqliteStore.interval_columns`` answers for each of ``series``, in one query."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        wanted = set(series)
        if source is None or not wanted:
            return None if source is None else {}
        table = "rollup_1d" if source == ROLLUP_1D_MS else "rollup_15m"
        names = ("start_ms", *(fields if source == interval_ms else merge_inputs(fields)))
        devices, quantities = sorted({d for d, _ in wanted}), sorted({q for _, q in wanted})
        sql = (
            f"SELECT device, quantity, {', '.join(names)} FROM {table} WHERE device IN ({','.join('?' * len(devices))}) "
            f"AND quantity IN ({','.join('?' * len(quantities))}) AND start_ms >= ? AND start_ms < ? "
            "ORDER BY device, quantity, start_ms"
        )

        def read(db: sqlite3.Connection) -> dict[tuple[str, str], IntervalColumns]:
            got: dict[tuple[str, str], IntervalColumns] = {}
            rows = db.execute(sql, (*devices, *quantities, start_ms, end_ms))
            for key, group in groupby(rows, key=lambda r: (r[0], r[1])):
                if key in wanted:
                    got[key] = columns_from_rows((r[2:] for r in group), names)
            return got

        stored = self._run(read)
        empty = columns_from_rows((), names)
        out = {}
        for key in wanted:
            cols = columns_from(stored.get(key, empty), interval_ms, source)
            out[key] = {name: cols[name] for name in ("start_ms", *fields)}
        return out

    def state(self, interval_s: int) -> BalanceState | None:
        def read(db: sqlite3.Connection) -> str | None:
            if not _has_table(db, "balance_state"):
                return None
            row = db.execute("SELECT doc FROM balance_state WHERE interval_s = ?", (interval_s,)).fetchone()
            return str(row[0]) if row else None

        return state_from_doc(self._run(read), interval_s)

    def write_state(self, state: BalanceState) -> None:
        def tx(db: sqlite3.Connection) -> None:
            db.executescript(_SCHEMA)
            db.execute("INSERT OR REPLACE INTO balance_state VALUES (?, ?)", (state.interval_s, state_doc(state)))

        self._run(tx)

    def outstanding(self, start_ms: int, end_ms: int) -> Outstanding:
        def read(db: sqlite3.Connection) -> list[tuple[str, str, int]]:
            return db.execute(
                "SELECT device, quantity, bucket_ms FROM rollup_marks WHERE bucket_ms >= ? AND bucket_ms < ? LIMIT ?",
                (start_ms, end_ms, OUTSTANDING_MAX + 1),
            ).fetchall()

        rows = self._run(read)
        if len(rows) > OUTSTANDING_MAX:
            return Outstanding(everything=True)
        by_series: dict[tuple[str, str], list[int]] = {}
        for device, quantity, bucket in rows:
            by_series.setdefault((device, quantity), []).append(int(bucket))
        return Outstanding(by_series={k: sorted(v) for k, v in by_series.items()})

    def defer(self, interval_s: int, days: Mapping[str, Collection[int]]) -> None:
        rows = [(device, interval_s, day) for device, ds in days.items() for day in ds]

        def tx(db: sqlite3.Connection) -> None:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO balance_pending VALUES (?,?,?)", rows)
            db.execute("COMMIT")

        if rows:
            self._run(tx)

    def deferred(self, interval_s: int) -> dict[str, set[int]]:
        def read(db: sqlite3.Connection) -> list[tuple[str, int]]:
            if not _has_table(db, "balance_pending"):
                return []
            sql = "SELECT device, day_ms FROM balance_pending WHERE interval_s = ?"
            return db.execute(sql, (interval_s,)).fetchall()

        out: dict[str, set[int]] = {}
        for device, day in self._run(read):
            out.setdefault(device, set()).add(int(day))
        return out

    def settle(self, interval_s: int, days: Mapping[str, Collection[int]], *, everything: bool) -> None:
        rows = [(device, interval_s, day) for device, ds in days.items() for day in ds]

        def tx(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM balance_pending WHERE device = ? AND interval_s = ? AND day_ms = ?", rows)
            db.execute("COMMIT")

        if rows:
            self._run(tx)
