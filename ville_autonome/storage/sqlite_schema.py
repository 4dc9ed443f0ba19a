"""The SQLite store's file: its schema, and the connection that sets it up (WAL, tables, the
migration of the first design's marks), safe when several services open a new file at once."""

from __future__ import annotations

import sqlite3
import time

_COLUMNS = "value REAL, quality TEXT NOT NULL, district TEXT NOT NULL, site TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL"
_STATS = "count INTEGER NOT NULL, first REAL, last REAL, minimum REAL, maximum REAL, mean REAL, first_ts_ms INTEGER, last_ts_ms INTEGER"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS readings (device TEXT NOT NULL, quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL, {_COLUMNS},
    PRIMARY KEY (device, quantity, ts_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (device TEXT NOT NULL, quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL, {_COLUMNS},
    PRIMARY KEY (device, quantity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_15m (device TEXT NOT NULL, quantity TEXT NOT NULL, start_ms INTEGER NOT NULL, {_STATS},
    PRIMARY KEY (device, quantity, start_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_1d (device TEXT NOT NULL, quantity TEXT NOT NULL, start_ms INTEGER NOT NULL, {_STATS},
    PRIMARY KEY (device, quantity, start_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_health (device TEXT PRIMARY KEY, gateway TEXT NOT NULL, online INTEGER NOT NULL,
    last_seen_ms INTEGER, updated_ms INTEGER NOT NULL, last_quality TEXT NOT NULL, errors TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (gateway TEXT NOT NULL, worker TEXT NOT NULL, received_ms INTEGER NOT NULL,
    ranges TEXT NOT NULL, PRIMARY KEY (gateway, worker, received_ms));
CREATE TABLE IF NOT EXISTS rollup_marks (id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL, quantity TEXT NOT NULL, bucket_ms INTEGER NOT NULL, UNIQUE (device, quantity, bucket_ms));
CREATE TABLE IF NOT EXISTS counters (service TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
    updated_ms INTEGER NOT NULL, PRIMARY KEY (service, name));
-- the dirty marks of the store's first design, compiled by the rollup compiler like its own
CREATE TABLE IF NOT EXISTS rollup_pending (device TEXT, quantity TEXT, bucket_ms INTEGER);
INSERT OR IGNORE INTO rollup_marks (device, quantity, bucket_ms) SELECT * FROM rollup_pending;
DROP TABLE rollup_pending;
"""  # noqa: S608 (the module's own constants)


def open_store_file(path: str, timeout_s: float) -> sqlite3.Connection:
    """The store's connection, WAL and schema set up. Switching a new file to WAL takes an
    exclusive lock without waiting on the busy timeout, so two services opening the same new
    store at once saw "database is locked" (measured: 12 starts in 30 with three processes);
    the set-up is tried again until ``timeout_s``, as any other statement waits that long (then
    the ``sqlite3`` error is raised). The schema is set up in one transaction: two processes
    migrating at once met a table the other had just dropped."""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        db = None
        try:
            db = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")  # one set-up at a time (its migration drops a table)
            return db
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)  # another process is setting the file up: a moment, then again
        delay = min(delay * 2, 0.2)
