# ruff: noqa: S608  (table names are this module's constants)
"""The rollup compiler's work in the embedded store: marks → ``rollup_15m`` and ``rollup_1d``.

A write marks each (device, quantity, bucket) it touches in ``rollup_marks`` in its own
transaction (``INSERT OR REPLACE``: a mark written again gets a new ``id``). The compiler takes
marks in ``id`` order, :data:`CHUNK` at a time, recomputes their buckets and days from the raw GOOD
values in one transaction, and then deletes exactly the marks it took, by ``id``: a bucket
written again meanwhile has a new mark, which stays for the next chunk. Killed anywhere, the
compiler finds the marks it had not deleted yet and recomputes them again (the same numbers).
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from ville_autonome.series.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, bucket_start, merge
from ville_autonome.series.values import IntervalStat, RollupKey

CHUNK = 500  # marks compiled per transaction: writers wait at most that long
T = TypeVar("T")


class Runner(Protocol):
    """``SqliteStore._run``: a function of the connection, under the store's lock, errors translated."""

    def __call__(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


STAT_COLUMNS = "start_ms, count, first, last, minimum, maximum, mean, first_ts_ms, last_ts_ms"
_GOOD = "device=? AND quantity=? AND ts_ms>=? AND ts_ms<? AND quality='good' AND value IS NOT NULL"


def stat_row(row: Sequence[Any]) -> IntervalStat:
    """A row of ``SELECT {STAT_COLUMNS}``: the stat, in the order of its fields."""
    return IntervalStat(*row)


def compile_marks(
    run: Runner,
    cutoff_ms: int | None,
    budget_s: float | None,
    on_compiled: Callable[[Sequence[RollupKey]], None] | None,
) -> int:
    """Compile the marks present when called, chunk after chunk, each in its transaction; ``run``
    runs a function of the connection under the store's lock. Returns how many buckets were done."""
    deadline = time.monotonic() + budget_s if budget_s is not None else None
    upto = run(lambda db: int(db.execute("SELECT coalesce(max(id), 0) FROM rollup_marks").fetchone()[0]))
    after = done = 0
    while marks := run(functools.partial(next_marks, after_id=after, upto_id=upto)):
        keys = sorted({(d, q, b) for _, d, q, b in marks})
        done += run(functools.partial(compile_buckets, keys=keys, cutoff_ms=cutoff_ms))
        if on_compiled is not None:
            on_compiled(keys)
        run(functools.partial(consume, ids=[m[0] for m in marks]))
        after = marks[-1][0]
        if deadline is not None and time.monotonic() >= deadline:
            break
    return done


def next_marks(db: sqlite3.Connection, after_id: int, upto_id: int) -> list[tuple[int, str, str, int]]:
    """The next :data:`CHUNK` marks ``(id, device, quantity, bucket)`` with ``after_id < id <= upto_id``."""
    return db.execute(
        "SELECT id, device, quantity, bucket_ms FROM rollup_marks WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
        (after_id, upto_id, CHUNK),
    ).fetchall()


def compile_buckets(db: sqlite3.Connection, keys: Iterable[RollupKey], cutoff_ms: int | None) -> int:
    """Recompute the 15-min rollups of ``keys`` and their days, in one transaction; buckets older
    than ``cutoff_ms`` (raw points past retention) keep their rollup. Returns how many were done."""
    db.execute("BEGIN IMMEDIATE")
    days: set[RollupKey] = set()
    done = 0
    for device, quantity, b in keys:
        if cutoff_ms is not None and b < cutoff_ms:
            continue
        _put(db, "rollup_15m", device, quantity, b, _bucket_stats(db, device, quantity, b))
        days.add((device, quantity, bucket_start(b, ROLLUP_1D_MS)))
        done += 1
    for device, quantity, d in days:
        rows = db.execute(
            f"SELECT {STAT_COLUMNS} FROM rollup_15m WHERE device=? AND quantity=? AND start_ms>=? AND start_ms<? "
            "ORDER BY start_ms",
            (device, quantity, d, d + ROLLUP_1D_MS),
        ).fetchall()
        _put(db, "rollup_1d", device, quantity, d, merge([stat_row(r) for r in rows], ROLLUP_1D_MS))
    db.execute("COMMIT")
    return done


def consume(db: sqlite3.Connection, ids: Iterable[int]) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany("DELETE FROM rollup_marks WHERE id = ?", [(i,) for i in ids])
    db.execute("COMMIT")


def _bucket_stats(db: sqlite3.Connection, device: str, qty: str, b: int) -> list[IntervalStat]:
    """Aggregates of GOOD values in the 15-min bucket ``b``, by SQL over the primary-key index."""
    args = (device, qty, b, b + ROLLUP_15M_MS)
    n, lo, hi, mean, t1, t2 = db.execute(
        f"SELECT COUNT(*), MIN(value), MAX(value), AVG(value), MIN(ts_ms), MAX(ts_ms) FROM readings WHERE {_GOOD}",
        args,
    ).fetchone()
    if not n:
        return []
    first = db.execute("SELECT value FROM readings WHERE device=? AND quantity=? AND ts_ms=?", (device, qty, t1))
    last = db.execute("SELECT value FROM readings WHERE device=? AND quantity=? AND ts_ms=?", (device, qty, t2))
    return [IntervalStat(b, n, first.fetchone()[0], last.fetchone()[0], lo, hi, mean, t1, t2)]


def _put(db: sqlite3.Connection, table: str, device: str, qty: str, start: int, stats: list[IntervalStat]) -> None:
    if not stats:
        db.execute(f"DELETE FROM {table} WHERE device=? AND quantity=? AND start_ms=?", (device, qty, start))
        return
    s = stats[0]
    db.execute(
        f"INSERT OR REPLACE INTO {table} (device, quantity, {STAT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (device, qty, s.start_ms, s.count, s.first, s.last, s.minimum, s.maximum, s.mean, s.first_ts_ms, s.last_ts_ms),
    )
