"""Quoting for InfluxQL (pure): identifiers in double quotes, strings in single quotes.

InfluxQL's scanner understands the escapes ``\\\\``, ``\\'``, ``\\"`` and ``\\n`` inside quoted
strings and identifiers, and refuses a raw newline; quoting here produces exactly those, so a
value can never close its quotes and add a statement. Times are written as integer
nanoseconds since the epoch (a bare integer is nanoseconds in InfluxQL).
"""

from __future__ import annotations

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str, quote: str) -> str:
    out = []
    for ch in text:
        if ch == quote:
            out.append("\\" + quote)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            out.append(ch)
    return "".join(out)


def quote_ident(name: str) -> str:
    """A database, retention policy, measurement or tag key as a quoted identifier."""
    return '"' + _escape(name, '"') + '"'


def quote_string(value: str) -> str:
    """A tag or string field value as a single-quoted string literal."""
    return "'" + _escape(value, "'") + "'"


def ns(ts_ms: int) -> str:
    """A time literal for ``WHERE time >= …`` from UTC milliseconds."""
    return str(int(ts_ms) * 1_000_000)
