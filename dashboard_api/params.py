"""Parse and check query parameters before anything reaches a store: times, ranges, resolutions.

Times are ISO 8601 with an offset or ``Z`` (``2026-01-01T00:00:00+01:00``), a local time with
its time zone in brackets (RFC 9557: ``2026-10-25T02:30[Europe/Paris]``, resolved here with the
tz database; an ambiguous time takes its first occurrence, a skipped one is moved forward), a
calendar date (``2026-01-01``: midnight in Europe/Paris, the city's calendar), or integer epoch
milliseconds.
Every failure is a :class:`~dashboard_api.errors.BadParameterError` naming the parameter.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ville_autonome.configuration.services import ApiSettings
from ville_autonome.dashboard_api.errors import BadParameterError

PARIS = ZoneInfo("Europe/Paris")
DAY_MS = 86_400_000
RESOLUTIONS_S = {"raw": 0, "15m": 900, "30m": 1800, "1h": 3600, "1d": 86_400}
INTERVALS_S = {"15m": 900, "30m": 1800}
_EPOCH_MS = re.compile(r"^-?\d{1,16}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONED = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\[([A-Za-z_+\-/0-9]{1,64})\]$")
# years 2000..2999 as epoch ms: anything else is a typo (seconds instead of milliseconds, say)
MIN_MS, MAX_MS = 946_684_800_000, 32_503_680_000_000


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_time(value: str, parameter: str) -> int:
    """``value`` as UTC epoch milliseconds, or :class:`BadParameterError` naming ``parameter``."""
    text = value.strip()
    if _EPOCH_MS.match(text):
        ms = int(text)
    elif _DATE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError as exc:
            raise BadParameterError(f"{parameter}: {text[:40]!r} is not a valid date ({exc})", parameter) from None
        ms = int(datetime(d.year, d.month, d.day, tzinfo=PARIS).timestamp() * 1000)
    elif (zoned := _ZONED.match(text)) is not None:
        ms = _zoned_ms(zoned.group(1), zoned.group(2), parameter)
    else:
        try:
            dt = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise BadParameterError(
                f"{parameter}: {text[:40]!r} is neither ISO 8601 (2026-01-01T00:00:00Z) nor epoch milliseconds",
                parameter,
            ) from None
        if dt.tzinfo is None:
            raise BadParameterError(
                f"{parameter}: {text[:40]!r} has no UTC offset; add Z or +01:00 (or give a date alone)", parameter
            )
        ms = int(dt.timestamp() * 1000)
    if not MIN_MS <= ms <= MAX_MS:
        raise BadParameterError(
            f"{parameter}: {text[:40]!r} is outside the years 2000..2999 (epoch milliseconds, not seconds?)", parameter
        )
    return ms


def _zoned_ms(local: str, zone: str, parameter: str) -> int:
    """``local`` wall-clock time in the IANA time zone ``zone`` as UTC epoch ms."""
    try:
        tz = ZoneInfo(zone)
        naive = datetime.fromisoformat(local)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadParameterError(
            f"{parameter}: {local[:40]!r} in [{zone[:64]}] is not a valid local time", parameter
        ) from None
    # fold=0: the first of an ambiguous pair (autumn); a time skipped in spring takes the offset
    # before the change, which moves it forward by the gap (02:30 → 03:30 CEST)
    return int(naive.replace(tzinfo=tz).timestamp() * 1000)


@dataclass(frozen=True)
class TimeRange:
    start_ms: int
    end_ms: int

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms


def time_range(
    start: str | None, end: str | None, settings: ApiSettings, *, default_span_ms: int = DAY_MS
) -> TimeRange:
    """[start, end) from the ``start``/``end`` parameters (default: the last ``default_span_ms``),
    checked for order and against ``max_range_days``."""
    end_ms = parse_time(end, "end") if end is not None else now_ms()
    start_ms = parse_time(start, "start") if start is not None else end_ms - default_span_ms
    if start_ms >= end_ms:
        raise BadParameterError("start must be before end", "start")
    if end_ms - start_ms > settings.max_range_days * DAY_MS:
        raise BadParameterError(
            f"the range start..end spans {(end_ms - start_ms) / DAY_MS:.1f} days; at most {settings.max_range_days}",
            "end",
        )
    return TimeRange(start_ms, end_ms)


def resolution_s(value: str) -> int:
    if value not in RESOLUTIONS_S:
        raise BadParameterError(f"resolution must be one of {', '.join(RESOLUTIONS_S)}", "resolution")
    return RESOLUTIONS_S[value]


def interval_s(value: str) -> int:
    if value not in INTERVALS_S:
        raise BadParameterError(f"interval must be one of {', '.join(INTERVALS_S)}", "interval")
    return INTERVALS_S[value]


def check_points(rng: TimeRange, step_s: int, settings: ApiSettings, parameter: str) -> int:
    """Number of intervals of ``step_s`` in ``rng``; refused above ``max_points``."""
    n = -(-rng.span_ms // (step_s * 1000))
    if n > settings.max_points:
        raise BadParameterError(
            f"{n} intervals of {step_s} s in start..end; at most {settings.max_points}: shorten the range or "
            f"coarsen the {parameter}",
            parameter,
        )
    return n


def local_day_start_ms(t_ms: int) -> int:
    """Midnight (Europe/Paris) of the day containing ``t_ms``."""
    local = datetime.fromtimestamp(t_ms / 1000, tz=PARIS)
    midnight = datetime(local.year, local.month, local.day, tzinfo=PARIS)
    return int(midnight.timestamp() * 1000)


def iso(ms: int) -> str:
    """UTC ISO 8601 of epoch milliseconds (``Z`` suffix)."""
    dt = datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    return dt.isoformat(timespec="milliseconds") + "Z"
