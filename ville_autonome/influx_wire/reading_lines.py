"""Readings to line protocol (pure): the hot path of every InfluxDB write of the ingest.

Schema (docs/storage.md): measurement ``readings``, tags district/site/device/role/source/quantity
(empty ones left out), fields ``value`` (float, left out when there is none) and ``quality``
(string), time in ms. What :func:`influx_wire.line_protocol.line` writes and refuses, written
out for speed (``tests/storage/test_reading_lines.py`` checks both agree):

- a series' escaped prefix is cached (escaping is most of the cost of a line), looked up once
  per reading by (device, quantity) and checked by identity against the context (the validator
  hands over the same context object for every reading of a device);
- the common reading (good, a finite float, integer time) is its series' head, its value, a
  constant tail and its time; the numbers of a batch are formatted all at once in C by msgspec
  (the shortest text that reads back as the same float: ``1e16`` where Python writes ``1e+16``,
  both line protocol), and the body is assembled as bytes with one join, no string per line;
- any other reading takes the generic path: its line, or the reason it has none.

:func:`column_lines` writes the same for readings held in columns (:class:`readings.columns.ReadingColumns`,
the ingest's fast path), one lookup per reading by its series object, no reading object made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import NamedTuple

import msgspec

from ville_autonome.influx_wire.line_protocol import LineProtocolError, format_float, format_string_field, series_key
from ville_autonome.influx_wire.rows import READINGS
from ville_autonome.readings.columns import ReadingColumns, Series
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading

_QUALITY_FIELD = {q: f"quality={format_string_field(str(q))}" for q in Quality}
_GOOD_TAIL = f",{_QUALITY_FIELD[Quality.GOOD]} ".encode()  # what follows a good reading's value, before its time
_NEWLINE = b"\n"
_encode = msgspec.json.encode

_SERIES: dict[tuple[str, str], tuple[DeviceContext, str]] = {}  # (device, quantity) → (context, escaped prefix)
_SERIES_MAX = 100_000

Touched = dict[tuple[str, str, int], DeviceContext]  # (device, quantity, bucket start) → context


class ReadingLines(NamedTuple):
    """A write's readings as line protocol: the ``body`` (the lines, in order, joined by newlines),
    the readings that have no line by index (``refused``: index → reason), the rollup buckets the
    written ones touch."""

    body: bytes
    refused: dict[int, str]
    touched: Touched


def _series_prefix(c: DeviceContext, quantity: str) -> str:
    """The escaped ``readings,tag=value,…`` prefix of a reading's series (raises
    :class:`LineProtocolError` when a tag cannot be carried), cached for the process."""
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
    """The line of one reading (raises :class:`LineProtocolError` when it cannot have one)."""
    body, refused, _ = reading_lines([p], 1)
    if refused:
        raise LineProtocolError(refused[0])
    return body.decode("utf-8")


class _Series:
    """One series of a batch: its context, quantity, escaped prefix and the rollup buckets touched."""

    __slots__ = ("buckets", "context", "head", "hi", "lo", "prefix", "quantity")

    def __init__(self, context: DeviceContext, quantity: str, prefix: str) -> None:
        self.context, self.quantity, self.prefix = context, quantity, prefix
        self.head = (prefix + " value=").encode()
        self.buckets: set[int] = set()
        self.lo = self.hi = 0  # the bucket noted last: [lo, hi)

    def note(self, ts: int, bucket_ms: int) -> None:
        """Note the bucket of a reading at ``ts`` (called when it is not the one noted last)."""
        self.lo = ts - ts % bucket_ms
        self.hi = self.lo + bucket_ms
        self.buckets.add(self.lo)


def _result(
    series: Iterable[_Series],
    heads: list[bytes],
    values: list[float],
    times: list[int],
    others: dict[int, str],
    refused: dict[int, str],
) -> ReadingLines:
    """The lines gathered, the refusals and the buckets the series touched."""
    touched: Touched = {}
    for s in series:
        for b in s.buckets:
            touched[(s.context.device, s.quantity, b)] = s.context
    return ReadingLines(_body(heads, values, times, others), refused, touched)


def reading_lines(points: Sequence[StoredReading], bucket_ms: int) -> ReadingLines:
    """The body of a write of ``points``: one line per reading that line protocol can carry, in
    order, joined by newlines (UTF-8); the others by index, with the reason; and the rollup buckets
    the written ones touch."""
    heads: list[bytes] = []  # the common lines: series head, value, time
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
                refused[len(heads) + len(others) + len(refused)] = str(exc)  # each point before: a line or a refusal
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
        if not s.lo <= ts < s.hi:  # a bucket not noted last for this series
            s.note(ts, bucket_ms)
    return _result([*batch.values(), *more], heads, values, times, others, refused)


def column_lines(cols: ReadingColumns, bucket_ms: int) -> ReadingLines:
    """:func:`reading_lines` of the readings ``cols`` holds: the same body, refusals and buckets."""
    heads: list[bytes] = []
    values: list[float] = []
    times: list[int] = []
    others: dict[int, str] = {}
    refused: dict[int, str] = {}
    batch: dict[Series, _Series] = {}  # by identity: one object per series
    good = Quality.GOOD
    add_head, add_value, add_time = heads.append, values.append, times.append
    for k, (series, ts, value, quality) in enumerate(
        zip(cols.series, cols.ts, cols.values, cols.qualities, strict=True)
    ):
        s = batch.get(series)
        if s is None:
            try:
                s = batch[series] = _Series(
                    series.context, series.quantity, _series_prefix(series.context, series.quantity)
                )
            except LineProtocolError as exc:
                refused[k] = str(exc)
                continue
        if quality is good and type(value) is float and value - value == 0.0 and type(ts) is int:
            add_head(s.head)
            add_value(value)
            add_time(ts)
        else:
            line, problem = _other_line(s.prefix, value, quality, ts)
            if line is None:
                refused[k] = problem
                continue
            others[len(heads) + len(others)] = line
        if not s.lo <= ts < s.hi:  # a bucket not noted last for this series
            s.note(ts, bucket_ms)
    return _result(batch.values(), heads, values, times, others, refused)


def _numbers(values: list[float], times: list[int]) -> list[bytes]:
    """The text of every value, then of every time, formatted in one call."""
    if not values:
        return []
    try:
        return _encode(values + times)[1:-1].split(b",")
    except OverflowError:  # a time beyond 64 bits: written as is, the server refuses it by itself
        return [repr(v).encode() for v in values] + [str(t).encode() for t in times]


def _body(heads: list[bytes], values: list[float], times: list[int], others: dict[int, str]) -> bytes:
    """The common lines (``head value,quality="good" time``) and the others at their places."""
    n = len(values)
    texts = _numbers(values, times)
    if not others:
        parts = [_NEWLINE] * (5 * n)  # head, value, tail, time, newline: one join, no string per line
        parts[0::5] = heads
        parts[1::5] = texts[:n]
        parts[2::5] = repeat(_GOOD_TAIL, n)
        parts[3::5] = texts[n:]
        return b"".join(parts)[:-1]
    common = map(b"".join, zip(heads, texts[:n], repeat(_GOOD_TAIL), texts[n:]))
    lines = [others[k].encode() if k in others else next(common) for k in range(n + len(others))]
    return _NEWLINE.join(lines)


def _new_series(batch: dict[tuple[str, str], _Series], more: list[_Series], c: DeviceContext, quantity: str) -> _Series:
    """The series of ``(c, quantity)`` in this batch, made on its first reading (raises
    :class:`LineProtocolError` when its tags cannot be carried)."""
    key = (c.device, quantity)
    known = batch.get(key)
    if known is not None and known.context == c:  # an equal context, another object
        return known
    for s in more:
        if s.quantity == quantity and s.context == c:
            return s
    s = _Series(c, quantity, _series_prefix(c, quantity))
    if known is None:
        batch[key] = s
    else:
        more.append(s)
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
