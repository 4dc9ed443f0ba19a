"""The platform's InfluxDB schema as lines and rows (pure): a rollup to line protocol (a reading:
:mod:`influx_wire.reading_lines`), an InfluxQL answer back to tags, rows, statistics and device
contexts. Schema: docs/storage.md.

Reading back tolerates any row InfluxDB can answer: a point just written can show some fields
and not yet the others (1.x), and a foreign writer may have left anything. A row that cannot
be read whole (a missing field, an unknown quality, a value that is not a number) gives ``None``
here and is skipped by the caller, never an exception."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ville_autonome.influx_wire.line_protocol import LineProtocolError, series_key
from ville_autonome.readings.model import DeviceContext, Quality
from ville_autonome.series.rollups import INT_FIELDS, ROLLUP_1D_MS, IntervalColumns, merge
from ville_autonome.series.values import IntervalStat, LatestValue, SeriesPoint

READINGS = "readings"


def series_tags(c: DeviceContext, quantity: str) -> dict[str, str]:
    return {
        "district": c.district,
        "site": c.site,
        "device": c.device,
        "role": c.role,
        "source": c.source,
        "quantity": quantity,
    }


_SERIES_MAX = 100_000  # cached series prefixes (stat_line)


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
