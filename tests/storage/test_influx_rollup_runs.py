"""InfluxDB rollups asked for a run of buckets at a time give the statistics SQLite computes from
the same points, whichever way the first and last values are found (raw points of a group of
buckets, or selectors for a dense bucket)."""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import pytest

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, STAT_FIELDS
from ville_autonome.series.values import IntervalStat
from ville_autonome.storage import influx_rollup_stats, influx_rollups
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_rollup_stats import bucket_runs
from ville_autonome.storage.influx_store import InfluxStore
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


@pytest.mark.parametrize("raw_points", [10_000, 150])
def test_run_rollups_equal_sqlite_rollups(
    influxd: Influxd, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw_points: int
) -> None:
    # 150: the dense buckets (180 points) take the selector queries, the backfill many small groups
    monkeypatch.setattr(influx_rollup_stats, "RAW_POINTS", raw_points)
    influx = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    sqlite = open_store(StoreSettings(backend="sqlite", path=str(tmp_path / "s.sqlite")))
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
    assert bucket_runs(reversed(b)) == [b[0:3], b[3:5], b[5:]]
    long = [DAY0 + k * ROLLUP_15M_MS for k in range(200)]
    assert [len(r) for r in bucket_runs(long)] == [96, 96, 8]


def test_two_writers_and_two_compilers_by_mistake_end_with_the_rollups_of_one(
    influxd: Influxd, unique_name: str, tmp_path: Path
) -> None:
    """Two ingest workers write interleaved batches of the same buckets, and two compilers (one
    started by mistake) compile between and after the batches: the rollups end equal to those
    SQLite compiles once from the same points (each compiler recomputes from raw points, so
    what one writes over the other is the same numbers once both have passed)."""
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name)
    writers = [open_store(settings), open_store(settings)]
    compilers = [open_store(settings), open_store(settings)]
    sqlite = open_store(StoreSettings(backend="sqlite", path=str(tmp_path / "s.sqlite")))
    try:
        points = _points()
        for k, i in enumerate(range(0, len(points), 700)):
            assert not writers[k % 2].write(points[i : i + 700]).rejected
            assert not sqlite.write(points[i : i + 700]).rejected
            if k % 3 == 0:
                compilers[k % 2].refresh_rollups()
        for c in compilers:
            c.refresh_rollups()
        sqlite.refresh_rollups()
        for c in CTXS:
            for q in ("active_power_w", "energy_import_wh"):
                for interval_s in (900, 86_400):
                    _same(_rollups(compilers[0], c.device, q, interval_s), _rollups(sqlite, c.device, q, interval_s))
    finally:
        for s in (*writers, *compilers, sqlite):
            s.close()


@pytest.mark.parametrize("backend", ["influxdb", "sqlite"])
def test_a_compile_within_a_budget_leaves_the_rest_marked_for_the_next_pass_and_the_next_start(
    influxd: Influxd, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A budget of 0 s compiles one chunk and returns; the rest stays durably marked: the next
    pass, or a compiler started after a crash, goes on, and in the end every rollup equals what
    one unbounded compile gives."""
    monkeypatch.setattr(influx_rollups, "MARKS_PER_CHUNK", 1)  # a chunk: one write's mark (SQLite: 500 buckets)

    def settings(database: str) -> StoreSettings:
        if backend == "sqlite":
            return StoreSettings(backend="sqlite", path=str(tmp_path / f"{database}.sqlite"))
        return StoreSettings(backend="influxdb", url=influxd.url, database=database)

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
        # a crash: the compiler's store goes away
        if isinstance(sliced, InfluxStore):
            sliced.http.close()
        else:
            assert isinstance(sliced, SqliteStore)
            sliced._db.close()
        assert 0 < first < total  # one chunk done, the rest left
        restarted = open_store(settings(unique_name))  # finds the leftovers from their durable marks
        stack.callback(restarted.close)
        assert restarted.refresh_rollups() > 0
        for c in CTXS:
            for q in ("active_power_w", "energy_import_wh"):
                for interval_s in (900, 86_400):
                    _same(_rollups(restarted, c.device, q, interval_s), _rollups(reference, c.device, q, interval_s))


def test_live_days_and_many_devices_give_the_rollups_sqlite_gives(
    influxd: Influxd, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's data written in three parts, compiled after each: the compiler reads a live day's
    stored 15-min rollups once and keeps them up to date itself; with more devices than it names
    in a condition (here: more than one), it reads every device and keeps what was marked."""
    monkeypatch.setattr(influx_rollups, "MAX_DEVICES_NAMED", 1)
    today = int(time.time() * 1000) // ROLLUP_1D_MS * ROLLUP_1D_MS
    influx = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    sqlite = open_store(StoreSettings(backend="sqlite", path=str(tmp_path / "s.sqlite")))
    unmarked = DeviceContext("d", "s", "dev-unmarked", "consumption", "")
    try:
        assert isinstance(influx, InfluxStore)
        raw = f'readings,device=dev-unmarked,quantity=active_power_w value=5,quality="good" {today}'
        assert influx.write_lines([(0, raw)]) == {}  # a raw point without a mark: no rollup of it
        rnd = random.Random(3)
        for part in range(3):
            points = [
                StoredReading(c, "active_power_w", today + (part * 20 + k) * 60_000, rnd.uniform(0, 9))
                for k in range(20)
                for c in CTXS[: 2 + part]
            ]
            for store in (influx, sqlite):
                store.write(points)
                store.refresh_rollups()
        for c in (*CTXS, unmarked):
            for interval_s in (900, 86_400):
                got = influx.intervals(c.device, "active_power_w", today, today + ROLLUP_1D_MS, interval_s)
                _same(got, sqlite.intervals(c.device, "active_power_w", today, today + ROLLUP_1D_MS, interval_s))
        [day] = influx.intervals("dev-0", "active_power_w", today, today + ROLLUP_1D_MS, 86_400)
        assert day.count == 60
    finally:
        influx.close()
        sqlite.close()


def test_the_last_pass_statistics_answer_as_the_stored_rollups_read_back(influxd: Influxd, unique_name: str) -> None:
    """``recent_columns`` (the day balances compiled without reading the rollups back) answers the
    very columns ``interval_columns`` reads from InfluxDB, bit for bit (-0.0 and means included),
    or None where the last pass did not compute the whole window."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        assert isinstance(store, InfluxStore)
        points = _points()
        points[0] = StoredReading(CTXS[0], "active_power_w", DAY0, -0.0)
        points[1] = StoredReading(CTXS[0], "energy_import_wh", DAY0 + 1, 0.1 + 0.2)
        for i in range(0, len(points), 1000):
            assert not store.write(points[i : i + 1000]).rejected
        assert store.refresh_rollups() > 0
        day = ROLLUP_1D_MS
        answered = []
        for c in CTXS:
            for q in ("active_power_w", "energy_import_wh"):
                for start, end in ((DAY0, DAY0 + day), (DAY0, DAY0 + 2 * day), (DAY0 + day, DAY0 + 2 * day)):
                    recent = store.recent_columns(c.device, q, start, end, 900, STAT_FIELDS)
                    if recent is None:
                        continue
                    answered.append((c.device, q, start, end))
                    stored = store.interval_columns(c.device, q, start, end, 900)
                    assert list(recent) == list(stored)
                    for name in stored:
                        assert recent[name].dtype == stored[name].dtype
                        assert recent[name].tobytes() == stored[name].tobytes(), name
                assert store.recent_columns(c.device, q, DAY0 - ROLLUP_15M_MS, DAY0 + day, 900, STAT_FIELDS) is None
                assert store.recent_columns(c.device, q, DAY0, DAY0 + day, 86_400, ("count",)) is None
        # every series' days the backfill wrote whole (dev-3 has one day only, its second day no bucket)
        assert len(answered) == 3 * 3 * 2 + 1 * 2
        store.refresh_rollups()  # a pass with nothing to compile forgets the last one's statistics
        assert store.recent_columns("dev-0", "active_power_w", DAY0, DAY0 + day, 900, STAT_FIELDS) is None
    finally:
        store.close()
