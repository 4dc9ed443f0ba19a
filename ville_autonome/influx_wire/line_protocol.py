"""InfluxDB line protocol, built fast and escaped (pure).

Escaping (line protocol reference, "Special characters"): measurement ``,`` and space; tag keys,
tag values and field keys ``,``, ``=`` and space; string fields double-quoted with ``"`` and ``\\``
escaped. InfluxDB's scanner reads a backslash before ``,``, ``=``, a space or the end as an escape
(checked against influxd 1.6), and no control character can be carried at all: such identifiers
raise :class:`LineProtocolError` (the point is dead-lettered, never "cleaned" into another series
nor able to start a new line). Empty tag values are omitted (a missing tag reads as ``""``).
Floats are always written as floats (``1.0``, never ``1i``): an int/float flip is a type conflict.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AMBIGUOUS_BACKSLASH = re.compile(r"\\([,= ]|$)")
_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ "})
_TAG = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\"})


class LineProtocolError(ValueError):
    """A value that line protocol cannot carry exactly."""


def identifier_problem(text: str) -> str | None:
    """Why ``text`` cannot be a tag value or key stored exactly, or ``None`` if it can. Every
    backend applies this check, so that they all accept and refuse the same points."""
    if _CONTROL.search(text):
        return f"{text!r} contains a newline or control character"
    if _AMBIGUOUS_BACKSLASH.search(text):
        return f"{text!r} has a backslash before a separator or at its end"
    return None


def _check(kind: str, text: str) -> None:
    if not text:
        raise LineProtocolError(f"empty {kind}")
    problem = identifier_problem(text)
    if problem:
        raise LineProtocolError(f"{kind} {problem}")


def _escape_tag_text(text: str) -> str:
    return text.translate(_TAG)


def escape_measurement(name: str) -> str:
    _check("measurement", name)
    return name.translate(_MEASUREMENT)


@functools.lru_cache(maxsize=4096)
def escape_key(key: str) -> str:
    """Escape a tag key or field key."""
    _check("key", key)
    return _escape_tag_text(key)


def escape_tag_value(value: str) -> str:
    _check("tag value", value)
    return _escape_tag_text(value)


def format_string_field(value: str) -> str:
    return '"' + value.translate(_STRING) + '"'


def format_float(value: float) -> str:
    if not math.isfinite(value):
        raise LineProtocolError(f"field value {value!r} is not finite")
    return repr(float(value))


@functools.lru_cache(maxsize=65536)
def series_key(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """The escaped ``measurement,tag=value,…`` prefix of a series, tags sorted by key, empty ones
    left out. Cached: a platform has a bounded number of series, and escaping is most of the cost
    of a line."""
    parts = [escape_measurement(measurement)]
    for key, tag in sorted(tags):
        if tag:
            parts.append(f"{escape_key(key)}={escape_tag_value(tag)}")
    return ",".join(parts)


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, float | str | bool],
    ts_ms: int,
) -> str:
    """One line of line protocol at millisecond precision (use ``precision=ms`` when writing).

    Tags are sorted by key (what InfluxDB recommends for write speed); empty tag values are left
    out. Raises :class:`LineProtocolError` for anything that cannot be stored exactly.
    """
    prefix = series_key(measurement, tuple(tags.items()))
    field_parts = []
    for key, value in fields.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = format_string_field(value)
        else:
            text = format_float(value)
        field_parts.append(f"{escape_key(key)}={text}")
    if not field_parts:
        raise LineProtocolError("a point needs at least one field")
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int):
        raise LineProtocolError(f"timestamp {ts_ms!r} is not integer milliseconds")
    return f"{prefix} {','.join(field_parts)} {ts_ms}"


def join_lines(lines: Iterable[str]) -> bytes:
    return ("\n".join(lines)).encode("utf-8")
