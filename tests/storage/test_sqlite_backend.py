"""The embedded SQLite store's own behaviour beyond the shared contract (test_store_contract.py)."""

from __future__ import annotations

from pathlib import Path

from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.sqlite_store import SqliteStore


def test_a_writer_killed_before_its_rollup_refresh_leaves_the_work_to_the_next_open(tmp_path: Path) -> None:
    ctx = DeviceContext("d", "s", "pv-1", "production", "pv")
    start = 1_763_762_400_000
    path = tmp_path / "store.sqlite"
    crashed = SqliteStore(path, rollup_refresh_s=3600)
    history = [StoredReading(ctx, "energy_produced_wh", start + i * 60_000, float(i)) for i in range(90)]
    assert crashed.write(history).written == 90
    crashed._db.close()  # "kill -9": no close(), so no refresh at exit
    restarted = SqliteStore(path, rollup_refresh_s=3600)
    try:
        assert restarted.refresh_rollups() == 6  # the six 15-min buckets the dead writer left
        stats = restarted.intervals("pv-1", "energy_produced_wh", start, start + 90 * 60_000, 900)
        assert sum(s.count for s in stats) == 90
    finally:
        restarted.close()
    again = SqliteStore(path, rollup_refresh_s=3600)
    try:
        assert again.refresh_rollups() == 0  # nothing left pending
    finally:
        again.close()
