"""``SqliteStore.interval_columns``: ``intervals()`` as numpy columns, the same numbers, on a real file.

Counters with several readings per 15 min, gaps of minutes to hours, a reset, readings that are
not good, a gauge that goes negative; read on every path ``intervals()`` has — 15-min rollups as
they are, merged to 30 min, 1 h and 2 days, daily rollups, and raw points for unaligned ranges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.rollups import ROLLUP_1D_MS, STAT_FIELDS, columns_from_stats
from ville_autonome.storage.sqlite_store import SqliteStore

T0 = 1_767_225_600_000  # 2026-01-01T00:00Z: aligned on days
MIN = 60_000
HOUR = 60 * MIN
CTX = DeviceContext("north", "sun", "sun-grid", "grid", "")
SERIES = [("sun-grid", "energy_import_wh"), ("sun-grid", "active_power_w"), ("sun-grid", "energy_export_wh")]


def history() -> Iterator[StoredReading]:
    """Four days every 7 minutes (so 2 or 3 readings per 15 min, never on a fixed slot)."""
    counter = 1000.0
    for i in range(4 * 24 * 60 // 7):
        t = T0 + i * 7 * MIN
        if T0 + 10 * HOUR <= t < T0 + 10 * HOUR + 20 * MIN or T0 + 30 * HOUR <= t < T0 + 37 * HOUR:
            continue  # gaps: a missed bucket or two, and seven hours
        counter += 12.5 + (i % 5) * 0.1
        if t == T0 + 50 * HOUR + 10 * MIN:
            counter = 3.0  # meter replaced: the counter starts again mid-bucket
        yield StoredReading(CTX, "energy_import_wh", t, counter)
        yield StoredReading(CTX, "active_power_w", t, 800.0 * ((i % 11) - 5) + 0.1)
        if i % 9 == 0:
            yield StoredReading(CTX, "energy_import_wh", t + 1, None, Quality.TIMEOUT)
            yield StoredReading(CTX, "active_power_w", t + 2, 1e9, Quality.OUT_OF_RANGE)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
    s = SqliteStore(Path(tmp_path_factory.mktemp("columns")) / "store.sqlite")
    points = list(history())
    assert s.write(points).written == len(points)
    s.refresh_rollups()
    yield s
    s.close()


RANGES = [
    pytest.param(T0 - HOUR, T0 + 4 * ROLLUP_1D_MS, 900, id="15m-rollups"),
    pytest.param(T0 - 900_000, T0 + 2 * ROLLUP_1D_MS, 1800, id="30m-merged"),
    pytest.param(T0 - HOUR, T0 + 4 * ROLLUP_1D_MS, 3600, id="hourly-merged"),
    pytest.param(T0, T0 + 4 * ROLLUP_1D_MS, 86_400, id="daily-rollups"),
    pytest.param(T0 - ROLLUP_1D_MS, T0 + 6 * ROLLUP_1D_MS, 2 * 86_400, id="2-day-merged"),
    pytest.param(T0 + 7 * MIN, T0 + 20 * HOUR + 7 * MIN, 900, id="unaligned-raw"),
    pytest.param(T0, T0 + 20 * HOUR, 600, id="10m-raw"),
    pytest.param(T0 + 31 * HOUR, T0 + 36 * HOUR, 900, id="inside-a-gap"),
]


@pytest.mark.parametrize(("start", "end", "interval_s"), RANGES)
@pytest.mark.parametrize(("device", "quantity"), SERIES)
def test_columns_hold_the_numbers_of_intervals(
    store: SqliteStore, device: str, quantity: str, start: int, end: int, interval_s: int
) -> None:
    expected = columns_from_stats(store.intervals(device, quantity, start, end, interval_s))
    got = store.interval_columns(device, quantity, start, end, interval_s)
    assert list(got) == ["start_ms", *STAT_FIELDS]
    for name in got:
        assert got[name].dtype == expected[name].dtype, name
        assert got[name].tobytes() == expected[name].tobytes(), name
    if quantity == "energy_export_wh" or (start, interval_s) == (T0 + 31 * HOUR, 900):
        assert got["start_ms"].size == 0  # nothing stored there


@pytest.mark.parametrize(("start", "end", "interval_s"), RANGES[:3])
def test_some_fields_only(store: SqliteStore, start: int, end: int, interval_s: int) -> None:
    fields = ("count", "first", "last", "minimum", "maximum")
    expected = columns_from_stats(store.intervals("sun-grid", "energy_import_wh", start, end, interval_s), fields)
    got = store.interval_columns("sun-grid", "energy_import_wh", start, end, interval_s, fields=fields)
    assert list(got) == ["start_ms", *fields]
    assert all(got[name].tobytes() == expected[name].tobytes() for name in got)
    mean = store.interval_columns("sun-grid", "active_power_w", start, end, interval_s, fields=["mean"])
    assert list(mean) == ["start_ms", "mean"]


def test_the_reset_and_the_gaps_are_in_the_columns(store: SqliteStore) -> None:
    cols = store.interval_columns("sun-grid", "energy_import_wh", T0, T0 + 3 * ROLLUP_1D_MS, 900)
    at = {int(s): i for i, s in enumerate(cols["start_ms"])}
    reset = at[T0 + 50 * HOUR]
    assert cols["minimum"][reset] == 3.0 < cols["first"][reset]  # the counter went down inside
    assert T0 + 10 * HOUR not in at  # the missed bucket
    assert not any(T0 + 30 * HOUR <= s < T0 + 37 * HOUR for s in at)


def test_new_writes_show_up_once_compiled_as_in_intervals(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "store.sqlite")
    try:
        s.write([StoredReading(CTX, "energy_import_wh", T0 + MIN, 1.0)])
        s.refresh_rollups()
        assert s.interval_columns("sun-grid", "energy_import_wh", T0, T0 + HOUR, 900)["count"].tolist() == [1]
        s.write([StoredReading(CTX, "energy_import_wh", T0 + 2 * MIN, 2.0)])  # not compiled yet: the rollup as it was
        assert s.interval_columns("sun-grid", "energy_import_wh", T0, T0 + HOUR, 900)["count"].tolist() == [1]
        s.refresh_rollups()
        cols = s.interval_columns("sun-grid", "energy_import_wh", T0, T0 + HOUR, 900)
        assert cols["count"].tolist() == [2]
        assert cols["last"].tolist() == [2.0]
    finally:
        s.close()


def test_an_unknown_field_is_refused_before_any_sql(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="unknown interval fields"):
        store.interval_columns("sun-grid", "energy_import_wh", T0, T0 + HOUR, 900, fields=["last", "1; DROP TABLE x"])
