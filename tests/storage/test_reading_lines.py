"""The readings' hot path to line protocol (``influx_wire.reading_lines``) writes exactly what
the generic ``line`` writes, refuses what it refuses, keeps every other reading's index, and names
the rollup buckets of what it wrote; through the store, refusals of both kinds keep their index."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.influx_wire.line_protocol import LineProtocolError, line
from ville_autonome.influx_wire.reading_lines import column_lines, reading_line, reading_lines
from ville_autonome.influx_wire.rows import READINGS, series_tags
from ville_autonome.readings.columns import ReadingColumns, Series
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.storage.factory import open_store

BUCKET_MS = 900_000
AWKWARD = [1e16, 1e-7, 1.7976931348623157e308, 5e-324, -0.0, 1e22, 0.1, 1 / 3, 123456789012345680.0]
NOW = 1_763_762_400_000
OLD = 1_000_000_000_000  # 2001: another shard group
tag_text = st.text(alphabet=st.sampled_from("ab ,=\"'\\é\n"), min_size=1, max_size=5)
contexts = st.builds(DeviceContext, tag_text, st.just("s"), tag_text, st.sampled_from(["grid", "pv"]), st.just(""))
values = (
    st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40) | st.sampled_from(AWKWARD)
)
times = st.integers(0, 2**45) | st.sampled_from([1.5, True, 2**70, -(2**64)])
# (context index, quantity, time, value, quality) of a batch's readings
rows = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(["active_power_w", "q x"]), times, values, st.sampled_from(Quality)),
    max_size=25,
)


def _same_number_text(line: str) -> str:
    """A line with its value written as Python writes it: the hot path formats numbers with msgspec
    (``1e16``), the generic line with ``repr`` (``1e+16``); both read back as the same float."""
    head, sep, rest = line.partition(" value=")
    if not sep:
        return line
    number, comma, fields = rest.partition(",")
    return f"{head}{sep}{float(number)!r}{comma}{fields}"


def _expected(p: StoredReading) -> str | None:
    """The generic line of a reading, or ``None`` where it refuses it."""
    fields: dict[str, float | str | bool] = {}
    if p.value is not None:
        fields["value"] = p.value
    fields["quality"] = str(p.quality)
    try:
        return line(READINGS, series_tags(p.context, p.quantity), fields, p.ts_ms)
    except LineProtocolError:
        return None


@given(st.lists(contexts, min_size=1, max_size=3), rows)
def test_reading_lines_equal_the_generic_line(ctxs: list[DeviceContext], rows: list[tuple[Any, ...]]) -> None:
    # contexts by index: the same object, an equal copy (another object) or another context
    pool = [*ctxs, *(DeviceContext(c.district, c.site, c.device, c.role, c.source) for c in ctxs)]
    points = [StoredReading(pool[k % len(pool)], q, ts, v, quality) for k, q, ts, v, quality in rows]
    body, refused, touched = reading_lines(points, BUCKET_MS)
    lines = body.decode().split("\n") if body else []
    expected = [_expected(p) for p in points]
    assert [_same_number_text(x) for x in lines] == [x for x in expected if x is not None]
    assert set(refused) == {i for i, x in enumerate(expected) if x is None}
    written = [p for p, x in zip(points, expected, strict=True) if x is not None]
    assert touched == {(p.device, p.quantity, p.ts_ms - p.ts_ms % BUCKET_MS): p.context for p in written}


@given(st.lists(contexts, min_size=1, max_size=3), rows)
def test_column_lines_equal_reading_lines(ctxs: list[DeviceContext], rows: list[tuple[Any, ...]]) -> None:
    """The ingest's columns give the very bytes, refusals and buckets of the same readings as objects;
    series by index: one object per (context, quantity), and a second object for the same one (two
    gateways' caches)."""
    series: dict[tuple[int, str], Series] = {}
    cols = ReadingColumns()
    for k, q, ts, v, quality in rows:
        one = series.setdefault((k % (2 * len(ctxs)), q), Series(ctxs[k % len(ctxs)], q))
        cols.append(one, ts, v, quality)
    points = [
        StoredReading(sr.context, sr.quantity, ts, v, q)
        for sr, ts, v, q in zip(cols.series, cols.ts, cols.values, cols.qualities, strict=True)
    ]
    assert column_lines(cols, BUCKET_MS) == reading_lines(points, BUCKET_MS)
    assert list(cols) == points


def test_a_good_reading_and_one_without_value() -> None:
    ctx = DeviceContext("d", "s", "m-1", "grid", "")
    good = StoredReading(ctx, "active_power_w", 1000, 2.5)
    assert (
        reading_line(good)
        == 'readings,device=m-1,district=d,quantity=active_power_w,role=grid,site=s value=2.5,quality="good" 1000'
    )
    timeout = StoredReading(ctx, "active_power_w", 1000, None, Quality.TIMEOUT)
    assert reading_line(timeout).endswith(' quality="timeout" 1000')


def test_refusals_of_both_kinds_keep_their_index(influxd: Influxd, unique_name: str) -> None:
    """One reading line protocol cannot carry (index 2) and one the server refuses (index 7, a
    type conflict): both named by their index in the batch, every other reading written."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        # a string `value` in the 2001 shard makes any float `value` there a type conflict
        assert store.write_lines([(0, f'readings,device=other,quantity=x value="text" {OLD}')]) == {}
        ctx = DeviceContext("d", "s", "m-1", "grid", "")
        points = [StoredReading(ctx, "active_power_w", NOW + i, float(i)) for i in range(10)]
        points[2] = StoredReading(ctx, "active_power_w", NOW + 2, math.inf)
        points[7] = StoredReading(ctx, "active_power_w", OLD + 1, 7.0)
        result = store.write(points)
        assert set(result.rejected) == {2, 7}
        assert "finite" in result.rejected[2]
        assert "conflict" in result.rejected[7]
        assert result.written == 8
        assert [p.value for p in store.series("m-1", "active_power_w", NOW, NOW + 10, limit=20)] == [
            0.0,
            1.0,
            3.0,
            4.0,
            5.0,
            6.0,
            8.0,
            9.0,
        ]
    finally:
        store.close()


def test_refusals_from_columns_name_their_readings(influxd: Influxd, unique_name: str) -> None:
    """The ingest's columns through the store: a reading line protocol cannot carry and one the
    server refuses are named by their index and made into readings for the dead letters."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        assert store.write_lines([(0, f'readings,device=other,quantity=x value="text" {OLD}')]) == {}
        series = Series(DeviceContext("d", "s", "m-1", "grid", ""), "active_power_w")
        cols = ReadingColumns()
        for i in range(10):
            cols.append(series, NOW + i, float(i), Quality.GOOD)
        cols.values[2] = math.inf
        cols.ts[7] = OLD + 1
        part = cols[0:10]
        result = store.write(part, encoded=store.encode(part))
        assert set(result.rejected) == {2, 7}
        assert "conflict" in result.rejected[7]
        assert part[7] == StoredReading(series.context, "active_power_w", OLD + 1, 7.0)
        stored = store.series("m-1", "active_power_w", NOW, NOW + 10, limit=20)
        assert [p.value for p in stored] == [0.0, 1.0, 3.0, 4.0, 5.0, 6.0, 8.0, 9.0]
    finally:
        store.close()


def test_awkward_numbers_are_stored_exactly(influxd: Influxd, unique_name: str) -> None:
    """Exponents, the extremes of a double, negative zero: each value read back is the one written."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        ctx = DeviceContext("d", "s", "m-1", "grid", "")
        result = store.write([StoredReading(ctx, "active_power_w", NOW + i, v) for i, v in enumerate(AWKWARD)])
        assert result.rejected == {}
        got = [p.value for p in store.series("m-1", "active_power_w", NOW, NOW + 100, limit=100)]
        assert got == AWKWARD
    finally:
        store.close()
