"""InfluxDB rollups asked for a run of buckets at a time give the statistics SQLite computes from
the same points, whichever way the first and last values are found (raw points of a group of
buckets, or selectors for a dense bucket)."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.storage import influx_rollup_stats, influx_store
from ville_autonome.storage.base import IntervalStat, Store
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_rollup_stats import bucket_runs
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS
from ville_autonome.storage.sqlite_store import SqliteStore

DAY0 = 1_763_683_200_000  # 2025-11-21 00:00 UTC
CTXS = [DeviceContext("d", f"s{i % 2}", f"dev-{i}", "consumption", "") for i in range(4)]


def _points() -> list[StoredReading]:
    rnd = random.Random(7)
    points = []
    # a backfill: 15-min readings over two days, two quantities, one device missing a day
    for k in range(2 * 96):
        for c in CTXS:
            if c.device == "dev-3" and k >= 96:
                continue
            for q in ("active_power_w", "energy_import_wh"):
                points.append(StoredReading(c, q, DAY0 + k * ROLLUP_15M_MS + 60_000 * (k % 7), rnd.uniform(0, 9)))
    # live data: two dense buckets on the third day (a reading every 10 s), a bad reading among them
    for b in (2 * 96 + 10, 2 * 96 + 12):
        for s in range(90):
            for c in CTXS[:2]:
                ts = DAY0 + b * ROLLUP_15M_MS + s * 10_000
                points.append(StoredReading(c, "active_power_w", ts, rnd.uniform(0, 9)))
    points.append(
        StoredReading(CTXS[0], "active_power_w", DAY0 + (2 * 96 + 10) * ROLLUP_15M_MS + 5, None, Quality.TIMEOUT)
    )
    return points


def _rollups(store: Store, device: str, quantity: str, interval_s: int) -> list[IntervalStat]:
    return store.intervals(device, quantity, DAY0, DAY0 + 3 * ROLLUP_1D_MS, interval_s)


def _same(a: list[IntervalStat], b: list[IntervalStat]) -> None:
    assert [s.start_ms for s in a] == [s.start_ms for s in b]
    for x, y in zip(a, b, strict=True):
        assert (x.count, x.first, x.last, x.minimum, x.maximum, x.first_ts_ms, x.last_ts_ms) == (
            y.count,
            y.first,
            y.last,
            y.minimum,
            y.maximum,
            y.first_ts_ms,
            y.last_ts_ms,
        )
        assert x.mean == pytest.approx(y.mean, rel=1e-12)


@pytest.mark.parametrize("raw_points", [10_000, 40])
def test_run_rollups_equal_sqlite_rollups(
    influxd: Influxd, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw_points: int
) -> None:
    # 40: the dense buckets (180 points) take the selector queries, the backfill many small groups
    monkeypatch.setattr(influx_rollup_stats, "RAW_POINTS", raw_points)
    influx = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name, rollup_refresh_s=3600))
    sqlite = open_store(StoreSettings(backend="sqlite", path=str(tmp_path / "s.sqlite"), rollup_refresh_s=3600))
    try:
        points = _points()
        for store in (influx, sqlite):
            for i in range(0, len(points), 1000):
                assert not store.write(points[i : i + 1000]).rejected
            assert store.refresh_rollups() > 0
        for c in CTXS:
            for q in ("active_power_w", "energy_import_wh"):
                for interval_s in (900, 86_400):
                    _same(_rollups(influx, c.device, q, interval_s), _rollups(sqlite, c.device, q, interval_s))
        dense = _rollups(influx, "dev-0", "active_power_w", 900)[-3:]
        assert [s.count for s in dense] == [1, 90, 90]  # the backfill's last bucket, then the two dense ones
    finally:
        influx.close()
        sqlite.close()


def test_bucket_runs_are_consecutive_and_bounded() -> None:
    b = [DAY0 + k * ROLLUP_15M_MS for k in (0, 1, 2, 5, 6, 300)]
    assert bucket_runs(reversed(b), series=1) == [b[0:3], b[3:5], b[5:]]
    long = [DAY0 + k * ROLLUP_15M_MS for k in range(200)]
    assert [len(r) for r in bucket_runs(long, series=1)] == [96, 96, 8]
    # a row per bucket and series: 10 000 series leave one bucket per aggregate query
    assert [len(r) for r in bucket_runs(long[:3], series=10_000)] == [1, 1, 1]
    assert [len(r) for r in bucket_runs(long[:300], series=500)] == [20] * 10


def test_a_refresh_overtaken_by_another_writer_is_redone(influxd: Influxd, unique_name: str) -> None:
    """Two writers (ingest workers) store points of one bucket. Writer A reads the bucket, then
    writer B stores more points and refreshes, and only then A writes its rollup: A's is stale and
    would overwrite B's for good. A notices it right after its write and redoes the bucket."""
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name, rollup_refresh_s=3600)
    a, b = open_store(settings), open_store(settings)
    assert isinstance(a, InfluxStore)
    bucket = DAY0 + 40 * ROLLUP_15M_MS
    try:
        a.write([StoredReading(CTXS[0], "active_power_w", bucket + i * 1000, 1.0) for i in range(5)])
        write_rollups = a._write_rollups
        overtaken = []

        def b_overtakes(lines: list[tuple[int, str]]) -> None:
            if not overtaken:
                overtaken.append(True)
                b.write([StoredReading(CTXS[0], "active_power_w", bucket + 60_000 + i * 1000, 2.0) for i in range(7)])
                b.refresh_rollups()
            write_rollups(lines)

        a._write_rollups = b_overtakes  # type: ignore[method-assign]
        a.refresh_rollups()
        a._write_rollups = write_rollups  # type: ignore[method-assign]
        assert overtaken
        assert a.refresh_rollups() > 0  # the stale bucket, again
        for interval_s in (900, 86_400):
            [stat] = a.intervals("dev-0", "active_power_w", DAY0, DAY0 + ROLLUP_1D_MS, interval_s)
            assert (stat.count, stat.minimum, stat.maximum) == (12, 1.0, 2.0)
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("backend", ["influxdb", "sqlite"])
def test_a_refresh_within_a_budget_leaves_the_rest_marked_for_later_and_for_the_next_start(
    influxd: Influxd, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A budget of 0 s does one slice of work and returns; the rest stays dirty (the next refresh
    goes on) and durably marked (a store started after a crash finds it): in the end every rollup
    equals what one unbounded refresh gives."""
    monkeypatch.setattr(influx_store, "RUNS_PER_CHECK", 1)  # a slice: one run of buckets (SQLite: 500 buckets)

    def settings(database: str) -> StoreSettings:
        if backend == "sqlite":
            return StoreSettings(backend="sqlite", path=str(tmp_path / f"{database}.sqlite"), rollup_refresh_s=3600)
        return StoreSettings(backend="influxdb", url=influxd.url, database=database, rollup_refresh_s=3600)

    points = _points()
    with contextlib.ExitStack() as stack:
        reference = open_store(settings(f"{unique_name}_ref"))
        stack.callback(reference.close)
        sliced = open_store(settings(unique_name))
        for store in (reference, sliced):
            for i in range(0, len(points), 1000):
                store.write(points[i : i + 1000])
        total = reference.refresh_rollups()
        first = sliced.refresh_rollups(budget_s=0.0)
        # a crash: the store goes away without its refresh at close
        if isinstance(sliced, InfluxStore):
            sliced.http.close()
        else:
            assert isinstance(sliced, SqliteStore)
            sliced._db.close()
        assert 0 < first < total  # one slice done, the rest left
        restarted = open_store(settings(unique_name))  # finds the leftovers from their durable marks
        stack.callback(restarted.close)
        done = first
        while (n := restarted.refresh_rollups(budget_s=0.0)) > 0:
            done += n
        assert done >= total
        for c in CTXS:
            for q in ("active_power_w", "energy_import_wh"):
                for interval_s in (900, 86_400):
                    _same(_rollups(restarted, c.device, q, interval_s), _rollups(reference, c.device, q, interval_s))
