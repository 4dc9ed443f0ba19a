"""The platform's InfluxDB schema as lines and rows (pure): a reading or a rollup to line protocol,
an InfluxQL answer back to tags, rows, statistics and device contexts. Schema: docs/storage.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from readings.model import DeviceContext, Quality, StoredReading
from storage.base import IntervalStat
from storage.line_protocol import LineProtocolError, format_float, format_string_field, line, series_key

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


_QUALITY_FIELD = {q: f"quality={format_string_field(str(q))}" for q in Quality}


_SERIES: dict[tuple[str, str, str, str, str, str], str] = {}
_SERIES_MAX = 100_000


def reading_line(p: StoredReading) -> str:
    """The line of one reading: tags district/site/device/role/source/quantity, fields value (float,
    left out when there is none) and quality (string). The hot path of every write: the escaped
    series prefix is looked up by its tag values (a bounded set)."""
    c = p.context
    tags = (c.district, c.site, c.device, c.role, c.source, p.quantity)
    key = _SERIES.get(tags)
    if key is None:
        names = ("district", "site", "device", "role", "source", "quantity")
        key = series_key(READINGS, tuple(zip(names, tags, strict=True)))
        if len(_SERIES) >= _SERIES_MAX:
            _SERIES.clear()
        _SERIES[tags] = key
    ts = p.ts_ms
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise LineProtocolError(f"timestamp {ts!r} is not integer milliseconds")
    quality = _QUALITY_FIELD.get(p.quality) or f"quality={format_string_field(str(p.quality))}"
    if p.value is None:
        return f"{key} {quality} {ts}"
    return f"{key} value={format_float(p.value)},{quality} {ts}"


def stat_line(measurement: str, c: DeviceContext, quantity: str, s: IntervalStat) -> str:
    fields: dict[str, float | str | bool] = {
        "count": float(s.count),
        "first": s.first,
        "last": s.last,
        "minimum": s.minimum,
        "maximum": s.maximum,
        "mean": s.mean,
        "first_ts": float(s.first_ts_ms),
        "last_ts": float(s.last_ts_ms),
    }
    return line(measurement, series_tags(c, quantity), fields, s.start_ms)


def rows_of(series: list[dict[str, Any]]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    out = []
    for s in series:
        tags = s.get("tags") or {}
        cols = s["columns"]
        for values in s.get("values") or []:
            out.append((tags, dict(zip(cols, values, strict=True))))
    return out


def stat_from_row(row: Mapping[str, Any]) -> IntervalStat:
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


def context_from(tags: Mapping[str, Any], row: Mapping[str, Any]) -> DeviceContext:
    def get(k: str) -> str:
        return str(tags.get(k) or row.get(k) or "")

    return DeviceContext(get("district"), get("site"), get("device"), get("role"), get("source"))
