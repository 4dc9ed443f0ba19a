"""The Store contract, run against every backend (SQLite, a real InfluxDB 1.6, and any server named
in ``VA_TEST_INFLUX_URLS``: tests/storage/external.py): they cannot drift."""

from __future__ import annotations

import math

import pytest

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.values import RollupKey, SequenceGap
from ville_autonome.storage import influx_rollups, sqlite_rollups
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

T0 = 1_763_762_400_000  # 2025-11-21T22:00:00Z, aligned on a 15-min and on a UTC-day boundary? (15 min: yes)
DAY0 = T0 - T0 % 86_400_000
METER = DeviceContext("saint-leu", "iko-hydro", "sl-meter-1", "production", "hydro")
GRID = DeviceContext("saint-leu", "iko-hydro", "sl-grid", "grid", "")


def r(
    ts: int,
    value: float | None,
    *,
    ctx: DeviceContext = METER,
    q: str = "active_power_w",
    quality: Quality = Quality.GOOD,
) -> StoredReading:
    return StoredReading(ctx, q, ts, value, quality)


def test_ping_names_the_backend(store: Store) -> None:
    assert store.ping().split()[0] in ("sqlite", "influxdb")


def test_write_then_series_in_order_with_range_and_limit(store: Store) -> None:
    result = store.write([r(T0 + i * 1000, float(i)) for i in range(10)][::-1])
    assert result.written == 10
    assert result.rejected == {}
    pts = store.series("sl-meter-1", "active_power_w", T0 + 2000, T0 + 8000, limit=100)
    assert [p.ts_ms for p in pts] == [T0 + i * 1000 for i in range(2, 8)]
    assert [p.value for p in pts] == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert len(store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=3)) == 3


def test_rewrite_is_an_upsert(store: Store) -> None:
    store.write([r(T0, 1.0), r(T0 + 1000, 2.0)])
    store.write([r(T0, 1.0), r(T0 + 1000, 2.0)])  # re-delivery
    store.write([r(T0 + 1000, 5.0)])  # a corrected value replaces the old one
    pts = store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=100)
    assert [(p.ts_ms, p.value) for p in pts] == [(T0, 1.0), (T0 + 1000, 5.0)]


def test_bad_quality_without_value_is_kept(store: Store) -> None:
    store.write([r(T0, None, quality=Quality.TIMEOUT), r(T0 + 1000, 3.0, quality=Quality.STUCK)])
    pts = store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=100)
    assert [(p.value, p.quality) for p in pts] == [(None, Quality.TIMEOUT), (3.0, Quality.STUCK)]


def test_latest_per_device_and_quantity_with_context(store: Store) -> None:
    store.write(
        [
            r(T0, 1.0),
            r(T0 + 5000, 2.0),
            r(T0 + 3000, -400.0, ctx=GRID),
            r(T0 + 1000, 10.0, q="energy_produced_wh"),
        ]
    )
    store.write([r(T0 + 2000, 9.0)])  # older than the latest: does not replace it
    latest = {(v.context.device, v.quantity): v for v in store.latest()}
    assert set(latest) == {
        ("sl-meter-1", "active_power_w"),
        ("sl-grid", "active_power_w"),
        ("sl-meter-1", "energy_produced_wh"),
    }
    v = latest[("sl-meter-1", "active_power_w")]
    assert (v.ts_ms, v.value, v.quality, v.context) == (T0 + 5000, 2.0, Quality.GOOD, METER)
    assert latest[("sl-grid", "active_power_w")].context == GRID
    assert {(v.context.device, v.quantity) for v in store.latest(since_ms=T0 + 2500)} == {
        ("sl-meter-1", "active_power_w"),
        ("sl-grid", "active_power_w"),
    }


def test_non_finite_values_are_rejected_and_the_rest_written(store: Store) -> None:
    result = store.write([r(T0, 1.0), r(T0 + 1000, math.nan), r(T0 + 2000, math.inf), r(T0 + 3000, 4.0)])
    assert result.written == 2
    assert set(result.rejected) == {1, 2}
    assert all("finite" in reason for reason in result.rejected.values())
    assert [p.value for p in store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=10)] == [1.0, 4.0]


@pytest.mark.parametrize(
    "device",
    ["a,b c=d", 'quote"d', "it's", "back\\slash", "x' OR '1'='1", 'x" OR "1"="1', "é ü 中", "semi;colon"],
)
def test_identifiers_with_special_characters_are_stored_exactly(store: Store, device: str) -> None:
    ctx = DeviceContext("d 1,x", "s=1", device, "production", "pv")
    assert store.write([StoredReading(ctx, "active_power_w", T0, 7.0)]).written == 1
    store.write([r(T0, 1.0)])  # a neighbour that an injection would reveal
    pts = store.series(device, "active_power_w", T0, T0 + 1000, limit=10)
    assert [(p.ts_ms, p.value) for p in pts] == [(T0, 7.0)]
    latest = {v.context.device: v for v in store.latest()}
    assert latest[device].context == ctx


@pytest.mark.parametrize("device", ["line\nbreak", "carriage\rreturn", "trailing\\", "esc\\,comma", "tab\there"])
def test_identifiers_that_cannot_be_stored_exactly_are_rejected_alone(store: Store, device: str) -> None:
    ctx = DeviceContext("d", "s", device, "production", "pv")
    result = store.write([r(T0, 1.0), StoredReading(ctx, "active_power_w", T0, 7.0), r(T0 + 1000, 2.0)])
    assert result.written == 2
    assert list(result.rejected) == [1]
    assert [p.value for p in store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=10)] == [1.0, 2.0]


def test_intervals_from_raw_points_for_unaligned_interval(store: Store) -> None:
    store.write([r(T0 + i * 10_000, float(i)) for i in range(12)])  # 0..110 s
    store.write([r(T0 + 5000, 99.0, quality=Quality.OUT_OF_RANGE)])  # not good: not counted
    stats = store.intervals("sl-meter-1", "active_power_w", T0, T0 + 120_000, 60)
    assert [(s.start_ms, s.count, s.first, s.last, s.minimum, s.maximum) for s in stats] == [
        (T0, 6, 0.0, 5.0, 0.0, 5.0),
        (T0 + 60_000, 6, 6.0, 11.0, 6.0, 11.0),
    ]
    assert stats[0].mean == pytest.approx(2.5)
    assert (stats[1].first_ts_ms, stats[1].last_ts_ms) == (T0 + 60_000, T0 + 110_000)


def test_intervals_from_15_min_and_daily_rollups(store: Store) -> None:
    # a counter every 5 min over two days
    pts = [r(DAY0 + i * 300_000, 1000.0 + i * 10, q="energy_produced_wh") for i in range(2 * 288)]
    for i in range(0, len(pts), 100):
        store.write(pts[i : i + 100])
    store.refresh_rollups()
    q15 = store.intervals("sl-meter-1", "energy_produced_wh", DAY0, DAY0 + 3600_000, 900)
    assert [(s.start_ms, s.count, s.first, s.last) for s in q15] == [
        (DAY0 + k * 900_000, 3, 1000.0 + 30 * k, 1020.0 + 30 * k) for k in range(4)
    ]
    hourly = store.intervals("sl-meter-1", "energy_produced_wh", DAY0, DAY0 + 2 * 86_400_000, 3600)
    assert len(hourly) == 48
    assert (hourly[1].count, hourly[1].first, hourly[1].last) == (12, 1120.0, 1230.0)
    assert hourly[1].mean == pytest.approx(1175.0)
    daily = store.intervals("sl-meter-1", "energy_produced_wh", DAY0, DAY0 + 2 * 86_400_000, 86_400)
    assert [(s.start_ms, s.count, s.first, s.last) for s in daily] == [
        (DAY0, 288, 1000.0, 3870.0),
        (DAY0 + 86_400_000, 288, 3880.0, 6750.0),
    ]
    assert (daily[1].first_ts_ms, daily[1].last_ts_ms) == (DAY0 + 86_400_000, DAY0 + 2 * 86_400_000 - 300_000)


def test_rollups_follow_a_corrected_value(store: Store) -> None:
    store.write([r(DAY0 + i * 60_000, 1.0) for i in range(15)])
    store.refresh_rollups()
    assert store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 900_000, 900)[0].maximum == 1.0
    store.write([r(DAY0 + 60_000, 50.0)])
    store.refresh_rollups()
    [s] = store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 900_000, 900)
    assert (s.count, s.maximum) == (15, 50.0)
    [d] = store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 86_400_000, 86_400)
    assert (d.count, d.maximum) == (15, 50.0)


def test_a_write_leaves_its_rollups_to_the_compiler(store: Store) -> None:
    store.write([r(DAY0 + i * 60_000, float(i)) for i in range(20)])  # buckets 0 and 1 of the day
    assert store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 1_800_000, 900) == []
    assert store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 86_400_000, 86_400) == []
    compiled: list[RollupKey] = []
    assert store.refresh_rollups(on_compiled=compiled.extend) == 2
    assert sorted(compiled) == [
        ("sl-meter-1", "active_power_w", DAY0),
        ("sl-meter-1", "active_power_w", DAY0 + 900_000),
    ]
    stats = store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 1_800_000, 900)
    assert [(s.count, s.first, s.last) for s in stats] == [(15, 0.0, 14.0), (5, 15.0, 19.0)]
    [day] = store.intervals("sl-meter-1", "active_power_w", DAY0, DAY0 + 86_400_000, 86_400)
    assert (day.count, day.first, day.last) == (20, 0.0, 19.0)


def _day_and_quarters(store: Store) -> list[object]:
    return [
        store.intervals(ctx.device, q, DAY0, DAY0 + 2 * 86_400_000, interval_s)
        for ctx in (METER, GRID)
        for q in ("active_power_w", "energy_import_wh")
        for interval_s in (900, 86_400)
    ]


def _history() -> list[StoredReading]:
    return [
        r(DAY0 + i * 120_000 + k, float(i % 37), ctx=ctx, q=q)
        for i in range(1440)  # two days, a reading every 2 min
        for k, (ctx, q) in enumerate([(METER, "active_power_w"), (GRID, "energy_import_wh"), (GRID, "active_power_w")])
    ]


def test_compiling_again_changes_nothing_and_counts_nothing_twice(store: Store) -> None:
    points = _history()
    for i in range(0, len(points), 500):
        store.write(points[i : i + 500])
    store.refresh_rollups()
    once = _day_and_quarters(store)
    assert sum(s.count for s in once[1]) == 1440  # type: ignore[attr-defined]
    store.write(points[:500])  # a re-delivery: the same points, marked again
    store.refresh_rollups()
    store.refresh_rollups()
    assert _day_and_quarters(store) == once


def test_a_compiler_stopped_anywhere_leaves_the_rest_to_the_next(
    store_settings: StoreSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiler fails after a first chunk (``on_compiled`` raises: a kill -9 between two
    chunks, or a balance that could not be computed): the marks not consumed stay, and another
    compiler (a new store object, as after a restart) compiles them; the rollups equal those of
    one compiler that ran through, whatever was compiled twice."""
    monkeypatch.setattr(sqlite_rollups, "CHUNK", 40)
    monkeypatch.setattr(influx_rollups, "MARKS_PER_CHUNK", 2)
    points = _history()
    writer = open_store(store_settings)
    try:
        for i in range(0, len(points), 300):
            writer.write(points[i : i + 300])
    finally:
        writer.close()

    class Killed(Exception):
        pass

    chunks: list[list[RollupKey]] = []

    def die_after_the_first_chunk(keys: object) -> None:
        chunks.append(list(keys))  # type: ignore[call-overload]
        if len(chunks) == 2:
            raise Killed

    first = open_store(store_settings)
    try:
        with pytest.raises(Killed):
            first.refresh_rollups(on_compiled=die_after_the_first_chunk)
    finally:
        first.close()
    restarted = open_store(store_settings)
    try:
        rest: list[RollupKey] = []
        restarted.refresh_rollups(on_compiled=rest.extend)
        assert set(chunks[1]) <= set(rest)  # the chunk whose hook failed is compiled again
        assert set(chunks[0]) | set(rest) == {
            (p.context.device, p.quantity, p.ts_ms - p.ts_ms % 900_000) for p in points
        }
        got = _day_and_quarters(restarted)
    finally:
        restarted.close()
    assert [sum(s.count for s in stats) for stats in got] == [1440] * 2 + [0] * 2 + [1440] * 4  # type: ignore[attr-defined]
    [day] = got[1][:1]  # type: ignore[index]
    assert (day.first, day.last, day.count) == (0.0, float(719 % 37), 720)  # type: ignore[attr-defined]


def test_health_is_upserted_per_device(store: Store) -> None:
    h1 = DeviceHealth("sl-meter-1", "gw-saint-leu", True, T0, T0 + 10, "good", {"timeout": 2})
    h2 = DeviceHealth("sl-grid", "gw-saint-leu", True, None, T0 + 10, "timeout", {})
    store.write_health([h1, h2])
    h1b = DeviceHealth("sl-meter-1", "gw-saint-leu", False, T0, T0 + 20, "timeout", {"timeout": 3})
    store.write_health([h1b])
    assert store.health() == [h2, h1b]


def test_sequence_gaps_over_the_union_of_workers(store: Store) -> None:
    store.record_sequences("gw-a", [1, 3, 5], worker="w1", received_ms=T0)
    store.record_sequences("gw-a", [2, 4, 9], worker="w2", received_ms=T0)
    store.record_sequences("gw-a", [10], worker="w1", received_ms=T0)  # same ms: both kept
    store.record_sequences("gw-b", [7, 8], worker="w1", received_ms=T0 + 1)
    assert store.gaps() == [SequenceGap("gw-a", 6, 8)]
    store.record_sequences("gw-b", [12], worker="w1", received_ms=T0 + 2)
    assert store.gaps("gw-b") == [SequenceGap("gw-b", 9, 11)]
    assert store.gaps("gw-b")[0].missing == 3
    store.record_sequences("gw-a", [6, 7, 8], worker="w2", received_ms=T0 + 3)  # late replay fills it
    assert store.gaps("gw-a") == []


def test_counters_latest_per_service(store: Store) -> None:
    store.write_service_stats("ingest/w1", {"received": 10, "written": 8})
    store.write_service_stats("ingest/w2", {"received": 1.5})
    store.write_service_stats("ingest/w1", {"received": 12, "written": 11})
    assert store.service_stats() == {"ingest/w1": {"received": 12.0, "written": 11.0}, "ingest/w2": {"received": 1.5}}


def test_sequence_records_are_compacted_without_changing_the_gaps(store: Store) -> None:
    for k in range(30):  # two workers of a shared subscription: every other envelope each
        store.record_sequences("gw-a", [2 * k], worker="w1", received_ms=T0 + k * 10_000)
        store.record_sequences("gw-a", [2 * k + 1], worker="w2", received_ms=T0 + k * 10_000)
    store.record_sequences("gw-b", [1, 2, 5], worker="w1", received_ms=T0)
    before = store.gaps()
    assert before == [SequenceGap("gw-b", 3, 4)]
    store.compact_sequences(T0 + 150_000)  # type: ignore[attr-defined]
    store.compact_sequences(T0 + 150_000)  # type: ignore[attr-defined]  (idempotent)
    assert store.gaps() == before
    store.record_sequences("gw-a", [70], worker="w1", received_ms=T0 + 400_000)
    store.compact_sequences(T0 + 500_000)  # type: ignore[attr-defined]
    assert store.gaps() == [SequenceGap("gw-a", 60, 69), SequenceGap("gw-b", 3, 4)]
    assert store.gaps("gw-a") == [SequenceGap("gw-a", 60, 69)]
