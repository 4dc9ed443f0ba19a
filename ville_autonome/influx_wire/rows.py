"""The platform's InfluxDB schema as lines and rows (pure): a reading or a rollup to line protocol,
an InfluxQL answer back to tags, rows, statistics and device contexts. Schema: docs/storage.md.

Reading back tolerates any row InfluxDB can answer: a point just written can show some fields
and not yet the others (1.x), and a foreign writer may have left anything. A row that cannot
be read whole (a missing field, an unknown quality, a value that is not a number) gives ``None``
here and is skipped by the caller, never an exception."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from ville_autonome.influx_wire.line_protocol import LineProtocolError, format_float, format_string_field, series_key
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.rollups import INT_FIELDS, ROLLUP_1D_MS, IntervalColumns, merge
from ville_autonome.series.values import IntervalStat, LatestValue, SeriesPoint

READINGS = "readings"
_encode = msgspec.json.encode


def series_tags(c: DeviceContext, quantity: str) -> dict[str, str]:
    return {
        "district": c.district,
        "site": c.site,
        "device": c.device,
        "role": c.role,
        "source": c.source,
        "quantity": quantity,
    }


_QUALITY_FIELD = {q: f"quality={format_string_field(str(q))}" for q in Quality}
_GOOD_TAIL = f",{_QUALITY_FIELD[Quality.GOOD]} "  # what follows a good reading's value, before its time


_SERIES: dict[tuple[str, str], tuple[DeviceContext, str]] = {}  # (device, quantity) → (context, escaped prefix)
_SERIES_MAX = 100_000


def _series_prefix(c: DeviceContext, quantity: str) -> str:
    """The escaped ``readings,tag=value,…`` prefix of a reading's series, cached: a platform has a
    bounded set of series, and escaping is most of the cost of a line. Keyed by device and
    quantity, checked against the whole context."""
    cached = _SERIES.get((c.device, quantity))
    if cached is not None and (cached[0] is c or cached[0] == c):
        return cached[1]
    names = ("district", "site", "device", "role", "source", "quantity")
    tags = (c.district, c.site, c.device, c.role, c.source, quantity)
    prefix = series_key(READINGS, tuple(zip(names, tags, strict=True)))
    if len(_SERIES) >= _SERIES_MAX:
        _SERIES.clear()
    _SERIES[(c.device, quantity)] = (c, prefix)
    return prefix


def reading_line(p: StoredReading) -> str:
    """The line of one reading: tags district/site/device/role/source/quantity, fields value (float,
    left out when there is none) and quality (string)."""
    lines, refused, _ = reading_lines([p], 1)
    if refused:
        raise LineProtocolError(refused[0])
    return lines[0]


class _Series:
    """One series of a batch: its context, quantity, escaped prefix and the rollup buckets touched."""

    __slots__ = ("buckets", "context", "head", "hi", "lo", "prefix", "quantity")

    def __init__(self, context: DeviceContext, quantity: str, prefix: str) -> None:
        self.context, self.quantity, self.prefix = context, quantity, prefix
        self.head = prefix + " value="
        self.buckets: set[int] = set()
        self.lo = self.hi = 0


def reading_lines(
    points: Sequence[StoredReading], bucket_ms: int
) -> tuple[list[str], dict[int, str], dict[tuple[str, str, int], DeviceContext]]:
    """The lines of a batch of readings, in order; the readings that line protocol cannot carry
    (index → reason), which have no line (the lines of the others keep their order); and the
    ``(device, quantity, bucket start)`` rollup buckets the written ones touch.

    The hot path of every write, hence one loop with local names: a series is looked up once per
    reading by (device, quantity) and checked by identity against the context (the validator hands
    over the same context object for every reading of a device); a good reading's line is its
    series' ``prefix value=`` head, the value, a constant tail and the time, numbers formatted
    all at once (:func:`_common_lines`); buckets are noted when a series leaves its last one."""
    heads: list[str] = []  # the common lines (good, finite, integer time): series head, value, time
    values: list[float] = []
    times: list[int] = []
    others: dict[int, str] = {}  # the other lines, by their place among the lines
    refused: dict[int, str] = {}
    batch: dict[tuple[str, str], _Series] = {}
    more: list[_Series] = []  # series of a second context object under a (device, quantity) already seen
    good = Quality.GOOD
    add_head, add_value, add_time = heads.append, values.append, times.append
    for p in points:
        c, ts, value = p.context, p.ts_ms, p.value
        s = batch.get((c.device, p.quantity))
        if s is None or s.context is not c:
            try:
                s = _new_series(batch, more, c, p.quantity)
            except LineProtocolError as exc:
                refused[len(heads) + len(others) + len(refused)] = str(
                    exc
                )  # every point before has a line or a refusal
                continue
        if p.quality is good and type(value) is float and value - value == 0.0 and type(ts) is int:
            add_head(s.head)
            add_value(value)
            add_time(ts)
        else:
            line, problem = _other_line(s.prefix, value, p.quality, ts)
            if line is None:
                refused[len(heads) + len(others) + len(refused)] = problem
                continue
            others[len(heads) + len(others)] = line
        if not s.lo <= ts < s.hi:
            s.lo = ts - ts % bucket_ms
            s.hi = s.lo + bucket_ms
            s.buckets.add(s.lo)
    lines = _common_lines(heads, values, times)
    if others:
        lines = _merged(lines, others)
    touched: dict[tuple[str, str, int], DeviceContext] = {}
    for s in (*batch.values(), *more):
        for b in s.buckets:
            touched[(s.context.device, s.quantity, b)] = s.context
    return lines, refused, touched


def _common_lines(heads: list[str], values: list[float], times: list[int]) -> list[str]:
    """``head value,quality="good" time`` per common reading: the numbers formatted all at once, in
    C (msgspec: the shortest text that reads back as the same float, ``1e16`` where Python writes
    ``1e+16``; both are line protocol), a third of the cost of ``repr`` per number."""
    n = len(values)
    try:
        texts = _encode(values + times).decode()[1:-1].split(",") if n else []
    except OverflowError:  # a time beyond 64 bits: the server refuses it, by itself
        texts = [*map(repr, values), *map(str, times)]
    tail = _GOOD_TAIL
    return [f"{h}{v}{tail}{t}" for h, v, t in zip(heads, texts[:n], texts[n:], strict=True)]


def _merged(lines: list[str], others: dict[int, str]) -> list[str]:
    """The common lines with the others put back at their places."""
    common = iter(lines)
    return [others[place] if place in others else next(common) for place in range(len(lines) + len(others))]


def _new_series(
    batch: dict[tuple[str, str], _Series], others: list[_Series], c: DeviceContext, quantity: str
) -> _Series:
    """The series of ``(c, quantity)`` in this batch, made on its first reading (raises
    :class:`LineProtocolError` when its tags cannot be carried)."""
    key = (c.device, quantity)
    known = batch.get(key)
    if known is not None and known.context == c:  # an equal context, another object
        return known
    for s in others:
        if s.quantity == quantity and s.context == c:
            return s
    s = _Series(c, quantity, _series_prefix(c, quantity))
    if known is None:
        batch[key] = s
    else:
        others.append(s)
    return s


def _other_line(prefix: str, value: object, quality: Quality, ts: object) -> tuple[str | None, str]:
    """A reading off the common path (not good, no value, or a value or time to check): its line,
    or ``None`` and the reason it cannot have one."""
    if type(ts) is not int:
        return None, f"timestamp {ts!r} is not integer milliseconds"
    field = _QUALITY_FIELD.get(quality) or f"quality={format_string_field(str(quality))}"
    if value is None:
        return f"{prefix} {field} {ts}", ""
    try:
        return f"{prefix} value={format_float(value)},{field} {ts}", ""  # type: ignore[arg-type]
    except (LineProtocolError, TypeError, ValueError) as exc:
        return None, str(exc)


_STAT_PREFIX: dict[tuple[str, DeviceContext, str], str] = {}  # (measurement, context, quantity) → escaped prefix


def stat_line(measurement: str, c: DeviceContext, quantity: str, s: IntervalStat) -> str:
    """The line of a rollup point: the tags of its readings, every statistic a float field
    (``first_ts``/``last_ts`` for the times), at ``s.start_ms``. What :func:`influx_wire.line_protocol.line`
    writes, written out for speed (a year's backfill compiles millions); the same refusals."""
    values = (
        float(s.count),
        float(s.first),
        float(s.last),
        float(s.minimum),
        float(s.maximum),
        float(s.mean),
        float(s.first_ts_ms),
        float(s.last_ts_ms),
    )
    total = sum(values)  # NaN or infinite if any is, or if the sum overflows: then look at each
    if type(s.start_ms) is not int or (total - total != 0.0 and not all(v - v == 0.0 for v in values)):
        raise LineProtocolError(
            f"{measurement} of {c.device!r} {quantity} at {s.start_ms!r}: a statistic is not finite"
        )
    prefix = _STAT_PREFIX.get((measurement, c, quantity))
    if prefix is None:
        if len(_STAT_PREFIX) >= _SERIES_MAX:
            _STAT_PREFIX.clear()
        prefix = _STAT_PREFIX[(measurement, c, quantity)] = series_key(
            measurement, tuple(series_tags(c, quantity).items())
        )
    n, first, last, lo, hi, mean, first_ts, last_ts = values
    return (
        f"{prefix} count={n!r},first={first!r},last={last!r},minimum={lo!r},maximum={hi!r},mean={mean!r},"
        f"first_ts={first_ts!r},last_ts={last_ts!r} {s.start_ms}"
    )


def rows_of(series: list[dict[str, Any]]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """An InfluxQL answer as (tags, row) pairs."""
    return [
        (s.get("tags") or {}, dict(zip(s["columns"], v, strict=False))) for s in series for v in s.get("values") or []
    ]


def stat_from_row(row: Mapping[str, Any]) -> IntervalStat | None:
    """The rollup of one ``rollup_15m``/``rollup_1d`` row; ``None`` if it is not whole."""
    try:
        return IntervalStat(
            start_ms=int(row["time"]),
            count=int(row["count"]),
            first=float(row["first"]),
            last=float(row["last"]),
            minimum=float(row["minimum"]),
            maximum=float(row["maximum"]),
            mean=float(row["mean"]),
            first_ts_ms=int(row["first_ts"]),
            last_ts_ms=int(row["last_ts"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


_QUALITIES = {q.value: q for q in Quality}


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def series_point(row: Mapping[str, Any]) -> SeriesPoint | None:
    """A ``readings`` row as a point; ``None`` without a known quality (or with a value that is
    not a number): e.g. a point just written whose ``quality`` does not show yet."""
    quality = _QUALITIES.get(row.get("quality"))  # type: ignore[arg-type]
    value = row.get("value")
    if quality is None or not isinstance(row.get("time"), int) or (value is not None and _number(value) is None):
        return None
    return SeriesPoint(row["time"], _number(value), quality)


def latest_from(tags: Mapping[str, Any], row: Mapping[str, Any]) -> LatestValue | None:
    """A ``readings`` row grouped by every tag as a latest value; ``None`` as :func:`series_point`."""
    p = series_point(row)
    if p is None:
        return None
    return LatestValue(context_from(tags, row), str(tags.get("quantity") or ""), p.ts_ms, p.value, p.quality)


def context_from(tags: Mapping[str, Any], row: Mapping[str, Any]) -> DeviceContext:
    def get(k: str) -> str:
        return str(tags.get(k) or row.get(k) or "")

    return DeviceContext(get("district"), get("site"), get("device"), get("role"), get("source"))


def empty_stat(start_ms: int) -> IntervalStat:
    """The rollup of a bucket with no good value (written so that an emptied bucket reads empty)."""
    return IntervalStat(start_ms, 0, 0.0, 0.0, 0.0, 0.0, 0.0, start_ms, start_ms)


def day_of(quarters: Iterable[IntervalStat], day_ms: int) -> IntervalStat:
    """The day starting at ``day_ms`` merged from its 15-min stats (empty ones left out)."""
    merged = merge(sorted((q for q in quarters if q.count > 0), key=lambda q: q.start_ms), ROLLUP_1D_MS)
    return merged[0] if merged else empty_stat(day_ms)


def quarters_of(
    rows: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> dict[tuple[str, str], dict[int, IntervalStat]]:
    """The ``rollup_15m`` rows grouped by device and quantity: (device, quantity) → start → stat."""
    out: dict[tuple[str, str], dict[int, IntervalStat]] = {}
    for tags, r in rows:
        if (s := stat_from_row(r)) is not None:
            out.setdefault((str(tags.get("device", "")), str(tags.get("quantity", ""))), {})[s.start_ms] = s
    return out


def rollup_columns(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> IntervalColumns:
    """The rows of ``SELECT <names> FROM rollup_…`` (time first, then ``names``, ``count`` first of
    them) as columns ``start_ms`` and ``names``, in time order, the empty buckets and the rows that
    are not whole left out (as ``intervals()``)."""
    import numpy as np

    # every number here is below 2**53: float64 holds times and counts exactly; None becomes NaN
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(names) + 1)
    table = table[~np.isnan(table).any(axis=1)]
    table = table[np.argsort(table[:, 0], kind="stable")]
    table = table[table[:, 1] > 0]  # count > 0
    out: IntervalColumns = {"start_ms": table[:, 0].astype(np.int64)}
    for i, name in enumerate(names, start=1):
        out[name] = table[:, i].astype(np.int64 if name in INT_FIELDS else np.float64)
    return out
