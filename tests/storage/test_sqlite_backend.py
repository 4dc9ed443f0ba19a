"""The embedded SQLite store's own behaviour beyond the shared contract (test_store_contract.py):
its marks after a crash, and its errors by kind, from real ``sqlite3`` failures."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.queues import Queue as QueueType
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import StoreAuthError, StoreRejectedError, StoreTransientError
from ville_autonome.storage.factory import StoreStartupError, open_store
from ville_autonome.storage.sqlite_store import SqliteStore

CTX = DeviceContext("d", "s", "pv-1", "production", "pv")
START = 1_763_762_400_000


def test_a_writer_killed_right_after_its_write_leaves_marks_that_the_compiler_finds(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    writer = SqliteStore(path)
    history = [StoredReading(CTX, "energy_produced_wh", START + i * 60_000, float(i)) for i in range(90)]
    assert writer.write(history).written == 90
    writer._db.close()  # "kill -9": the write returned, nothing else happens in that process
    compiler = SqliteStore(path)  # the compiler is another process, with a store of its own
    try:
        assert compiler.refresh_rollups() == 6  # the six 15-min buckets of the write
        stats = compiler.intervals("pv-1", "energy_produced_wh", START, START + 90 * 60_000, 900)
        assert sum(s.count for s in stats) == 90
        assert compiler.refresh_rollups() == 0  # its marks are consumed
    finally:
        compiler.close()


def test_marks_of_the_first_design_are_compiled(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE readings (device TEXT NOT NULL, quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL, value REAL, "
        "quality TEXT NOT NULL, district TEXT NOT NULL, site TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL, "
        "PRIMARY KEY (device, quantity, ts_ms)) WITHOUT ROWID;"
        "CREATE TABLE rollup_pending (device TEXT NOT NULL, quantity TEXT NOT NULL, bucket_ms INTEGER NOT NULL, "
        "PRIMARY KEY (device, quantity, bucket_ms)) WITHOUT ROWID;"
    )
    db.execute(
        "INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?)",
        ("pv-1", "active_power_w", START, 5.0, "good", "d", "s", "production", "pv"),
    )
    db.execute("INSERT INTO rollup_pending VALUES (?,?,?)", ("pv-1", "active_power_w", START))
    db.commit()
    db.close()
    store = SqliteStore(path)
    try:
        assert store.refresh_rollups() == 1
        assert store.intervals("pv-1", "active_power_w", START, START + 900_000, 900)[0].count == 1
    finally:
        store.close()


def _open_at_once(path: str, barrier: BarrierType, results: QueueType[str]) -> None:
    barrier.wait()  # every process starts opening at the same moment
    try:
        SqliteStore(path, timeout_s=10).close()
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_services_opening_a_new_store_at_once_all_start(tmp_path: Path) -> None:
    """Two ingest workers (or the demo's parts) opening the same new file together: before the
    set-up was retried and made one transaction, 12 starts of 30 with three processes failed
    with "database is locked" or "no such table: rollup_pending"."""
    ctx = multiprocessing.get_context("fork")  # no resource tracker process left behind
    outcomes: list[str] = []
    for trial in range(20):
        barrier, results = ctx.Barrier(3), ctx.Queue()
        path = str(tmp_path / f"new-{trial}.sqlite")
        procs = [ctx.Process(target=_open_at_once, args=(path, barrier, results)) for _ in range(3)]
        for p in procs:
            p.start()
        outcomes += [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        results.close()
        results.join_thread()
    assert outcomes == ["ok"] * 60


def test_a_file_that_is_not_a_database_needs_an_operator(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreAuthError, match="not a database"):
        SqliteStore(path)
    with pytest.raises(StoreStartupError, match="not a database"):
        open_store(StoreSettings(backend="sqlite", path=str(path)))


def test_a_database_locked_by_another_writer_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path, timeout_s=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreTransientError, match="locked"):
            store.write([StoredReading(CTX, "active_power_w", START, 1.0)])
        other.execute("ROLLBACK")
        assert store.write([StoredReading(CTX, "active_power_w", START, 1.0)]).written == 1
    finally:
        other.close()
        store.close()


def test_a_read_only_database_needs_an_operator(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.sqlite")
    try:
        store._db.execute("PRAGMA query_only = ON")  # what a file mounted read-only does to writes
        with pytest.raises(StoreAuthError, match="readonly"):
            store.write([StoredReading(CTX, "active_power_w", START, 1.0)])
        assert store.latest() == []  # reads go on
    finally:
        store.close()


def test_a_statement_the_database_refuses_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("DROP TABLE counters")  # a schema that is not ours any more
        with pytest.raises(StoreRejectedError, match="no such table"):
            store.write_service_stats("ingest/w1", {"received": 1})
        with pytest.raises(StoreRejectedError, match="no such table"):
            store.service_stats()
    finally:
        other.close()
        store.close()
