"""What the evaluator sees at one instant, as plain data: the rules read nothing else.

``alerts.observe`` fills an :class:`Observation` from the store (latest values, device health,
service stats) and from the autonomy engine (data-quality flags, coverage, today's
self-sufficiency, refreshed every ``services.alerts.quality_interval_s``); the rules
(``alerts.conditions``) are pure functions of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from ville_autonome.readings.health import DeviceHealth


@dataclass(frozen=True, slots=True)
class Value:
    """The latest value of one (device, quantity)."""

    ts_ms: int
    value: float | None
    good: bool


@dataclass(frozen=True, slots=True)
class GatewayBuffer:
    """A gateway's store-and-forward backlog as its last health report gave it."""

    envelopes: int
    oldest_ms: int | None  # when the oldest envelope still held was sealed
    reported_ms: int


@dataclass(frozen=True, slots=True)
class ScopeFacts:
    """The autonomy engine's verdict on one scope (``city``, ``district:<id>``, ``site:<id>``) over
    a window ending at ``end_ms``."""

    scope: str
    start_ms: int
    end_ms: int
    coverage: float
    complete: bool
    flags: tuple[str, ...]
    self_sufficiency: float | None = None


@dataclass(frozen=True, slots=True)
class QualityFacts:
    computed_ms: int
    windows: dict[tuple[str, int], ScopeFacts]  # (scope, window_s) → facts over the last window_s
    today: dict[str, ScopeFacts]  # scope → facts since midnight (Europe/Paris)
    errors: tuple[str, ...] = ()  # scopes that could not be computed, and why


@dataclass(frozen=True)
class Observation:
    now_ms: int
    started_ms: int  # when the evaluator started watching: a subject never heard of counts from here
    values: dict[tuple[str, str], Value] = field(default_factory=dict)
    last_good_ms: dict[str, int] = field(default_factory=dict)  # device → its newest good reading
    health: dict[str, DeviceHealth] = field(default_factory=dict)
    buffers: dict[str, GatewayBuffer] = field(default_factory=dict)  # gateway → backlog
    newest_reading_ms: int | None = None
    dead_letters_per_minute: float | None = None  # None: not enough samples yet
    quality: QualityFacts | None = None


def last_good(values: dict[tuple[str, str], Value]) -> dict[str, int]:
    """Device → the time of its newest good reading among ``values``."""
    out: dict[str, int] = {}
    for (device, _), v in values.items():
        if v.good and v.ts_ms > out.get(device, -1):
            out[device] = v.ts_ms
    return out


@dataclass(frozen=True, slots=True)
class StatSample:
    at_ms: int
    value: float


def rate_per_minute(samples: Sequence[StatSample], window_ms: int, now_ms: int) -> float | None:
    """The increase per minute of a cumulative service stat (a Prometheus counter) over the last ``window_ms``, like
    Prometheus's ``increase``: a drop is a restart of its service (the count starts again from 0).
    ``None`` with fewer than two samples in the window."""
    inside = [s for s in samples if s.at_ms >= now_ms - window_ms]
    if len(inside) < 2 or inside[-1].at_ms <= inside[0].at_ms:
        return None
    increase = 0.0
    for a, b in itertools.pairwise(inside):
        increase += b.value - a.value if b.value >= a.value else b.value
    return increase * 60_000 / (inside[-1].at_ms - inside[0].at_ms)
