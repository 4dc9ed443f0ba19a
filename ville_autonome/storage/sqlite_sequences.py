# ruff: noqa: S608  (SQL built from constant conditions; values are bound parameters)
"""Sequence records in SQLite (table ``sequences``): the statements the store runs in its own
transactions (:class:`storage.sqlite_store.SqliteStore`), as functions of a connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ville_autonome.series.sequences import format_ranges, gaps_from, merge_ranges, parse_ranges, to_ranges
from ville_autonome.series.values import SequenceGap, SequenceNote

COMPACTED = "_compacted"  # the worker of compacted sequence records
COMPACT_EVERY_MS = 60_000
COMPACT_AFTER_MS = 60_000  # records older than this are settled and folded

_RECORD = (
    "INSERT INTO sequences VALUES (?,?,?,?) ON CONFLICT (gateway, worker, received_ms) DO UPDATE SET "
    "ranges = ranges || ',' || excluded.ranges"
)


def record(db: sqlite3.Connection, notes: Sequence[SequenceNote]) -> None:
    """Record ``notes`` (inside the caller's transaction, if any): one row per (gateway, worker,
    ms), a second record of the same ms appended to the first."""
    rows = [(n.gateway, n.worker, n.received_ms, format_ranges(to_ranges(n.seqs))) for n in notes if n.seqs]
    db.executemany(_RECORD, rows)


def compact(db: sqlite3.Connection, watermark_ms: int) -> None:
    """Fold each gateway's records up to ``watermark_ms`` into one (worker ``_compacted``), in one
    transaction; a union is a union, so this is safe with several workers."""
    db.execute("BEGIN IMMEDIATE")
    old = "SELECT DISTINCT gateway FROM sequences WHERE received_ms <= ?"
    for (gw,) in db.execute(old, (watermark_ms,)).fetchall():
        cond, args = "gateway=? AND (worker=? OR received_ms <= ?)", (gw, COMPACTED, watermark_ms)
        texts = [r[0] for r in db.execute(f"SELECT ranges FROM sequences WHERE {cond}", args)]
        merged = merge_ranges([rg for t in texts for rg in parse_ranges(t)])
        db.execute(f"DELETE FROM sequences WHERE {cond}", args)
        db.execute("INSERT INTO sequences VALUES (?,?,?,?)", (gw, COMPACTED, watermark_ms, format_ranges(merged)))
    db.execute("COMMIT")


def gaps(db: sqlite3.Connection, gateway: str | None) -> list[SequenceGap]:
    sql = "SELECT gateway, ranges FROM sequences WHERE ? IS NULL OR gateway=?"
    return gaps_from(db.execute(sql, (gateway, gateway)).fetchall())
