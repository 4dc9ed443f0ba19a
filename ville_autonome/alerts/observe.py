"""Read what the rules need from the store (I/O at the edge; the rules are pure).

- :class:`Observer` reads the latest values, the device health, the gateways' backlog and the
  ingest workers' stats at each evaluation (a few cheap queries), and keeps the stats'
  recent history to turn cumulative dead letters into a rate.
- :func:`quality_facts` runs the autonomy engine for the data-quality and self-sufficiency rules:
  the last ``window_s`` of each scope they watch (flags, energy-weighted coverage) and today since
  midnight, Europe/Paris (self-sufficiency). It is slower (each scope reads a week of warm-up), so
  the service runs it on its own thread every ``services.alerts.quality_interval_s``.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from zoneinfo import ZoneInfo

from ville_autonome.alerts.observation import (
    GatewayBuffer,
    Observation,
    QualityFacts,
    ScopeFacts,
    StatSample,
    Value,
    last_good,
    rate_per_minute,
)
from ville_autonome.alerts.subjects import scope_name, subjects
from ville_autonome.autonomy_queries import EnergyCache, ScopeError, compute_autonomy
from ville_autonome.configuration.alerts import DEFAULT_WINDOW_S
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import Quality
from ville_autonome.storage.base import Store, StoreError

log = logging.getLogger(__name__)

LATEST_WINDOW_MS = 86_400_000  # values older than a day say nothing the health does not
DEAD_LETTER_WINDOW_MS = 60_000
STAT_HISTORY = 64
DEAD_LETTERS = "dead_letters"  # messages dead-lettered by an ingest worker (docs/ingest.md)


def gateway_buffers(stats: dict[str, dict[str, float]]) -> dict[str, GatewayBuffer]:
    """The gateways' backlog from the stats the ingest stores for them (``gateway/<id>``)."""
    out = {}
    for service, values in stats.items():
        kind, _, gateway = service.partition("/")
        if kind == "gateway" and "buffered_envelopes" in values and "reported_ms" in values:
            oldest = values.get("oldest_envelope_ms", -1.0)
            out[gateway] = GatewayBuffer(
                int(values["buffered_envelopes"]), int(oldest) if oldest >= 0 else None, int(values["reported_ms"])
            )
    return out


class Observer:
    def __init__(self, store: Store, started_ms: int) -> None:
        self.store = store
        self.started_ms = started_ms
        self._samples: dict[str, deque[StatSample]] = {}

    def observe(self, now_ms: int, quality: QualityFacts | None) -> Observation:
        """Everything the rules read, now. Store errors propagate (the evaluation is skipped)."""
        values: dict[tuple[str, str], Value] = {}
        for v in self.store.latest(since_ms=now_ms - LATEST_WINDOW_MS):
            good = v.quality == Quality.GOOD and v.value is not None
            values[(v.context.device, v.quantity)] = Value(v.ts_ms, v.value, good)
        stats = self.store.service_stats()
        return Observation(
            now_ms=now_ms,
            started_ms=self.started_ms,
            values=values,
            last_good_ms=last_good(values),
            health={h.device: h for h in self.store.health()},
            buffers=gateway_buffers(stats),
            newest_reading_ms=max((v.ts_ms for v in values.values()), default=None),
            dead_letters_per_minute=self._dead_letter_rate(stats, now_ms),
            quality=quality,
        )

    def _dead_letter_rate(self, stats: dict[str, dict[str, float]], now_ms: int) -> float | None:
        rates = []
        for service, values in stats.items():
            if not service.startswith("ingest/") or DEAD_LETTERS not in values:
                continue
            history = self._samples.setdefault(service, deque(maxlen=STAT_HISTORY))
            history.append(StatSample(now_ms, values[DEAD_LETTERS]))
            rate = rate_per_minute(list(history), DEAD_LETTER_WINDOW_MS, now_ms)
            if rate is not None:
                rates.append(rate)
        return sum(rates) if rates else None


def local_midnight_ms(now_ms: int, timezone: str) -> int:
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now_ms / 1000, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def _facts(
    store: Store, config: PlatformConfig, scope: str, start_ms: int, now_ms: int, cache: EnergyCache
) -> ScopeFacts:
    interval_s = config.services.metrics.interval_minutes * 60
    r = compute_autonomy(
        store, config, scope, start_ms, max(now_ms, start_ms + 1), interval_s, cache=cache, now_ms=now_ms
    )
    return ScopeFacts(scope, start_ms, now_ms, r.coverage.ratio, r.complete, tuple(r.flags), r.metrics.self_sufficiency)


def quality_needs(config: PlatformConfig) -> tuple[set[tuple[str, int]], set[str]]:
    """The (scope, window_s) and the today-scopes the configured rules read."""
    windows: set[tuple[str, int]] = set()
    today: set[str] = set()
    for rule in config.alerts.rules:
        window = int(rule.param("window_s", DEFAULT_WINDOW_S))
        if rule.kind in ("implausible_readings", "unbalanced_site"):
            windows.add(("city", window))
        elif rule.kind == "low_coverage":
            windows.update((scope_name(s), window) for s in subjects(rule, config))
        elif rule.kind == "self_sufficiency_below":
            today.update(scope_name(s) for s in subjects(rule, config))
    return windows, today


def quality_facts(store: Store, config: PlatformConfig, now_ms: int, cache: EnergyCache) -> QualityFacts | None:
    """The engine's facts for every scope the rules read (``None`` when no rule reads any). A scope
    that cannot be computed is left out (its alarms keep their state) and named in ``errors``."""
    windows_needed, today_needed = quality_needs(config)
    if not windows_needed and not today_needed:
        return None
    interval_ms = config.services.metrics.interval_minutes * 60_000
    windows: dict[tuple[str, int], ScopeFacts] = {}
    today: dict[str, ScopeFacts] = {}
    errors: list[str] = []
    for scope, window_s in sorted(windows_needed):
        start = (now_ms - window_s * 1000) // interval_ms * interval_ms
        try:
            windows[(scope, window_s)] = _facts(store, config, scope, start, now_ms, cache)
        except (StoreError, ScopeError) as exc:
            errors.append(f"{scope}: {exc}")
    midnight = local_midnight_ms(now_ms, config.city.timezone)
    for scope in sorted(today_needed):
        try:
            today[scope] = _facts(store, config, scope, midnight, now_ms, cache)
        except (StoreError, ScopeError) as exc:
            errors.append(f"{scope}: {exc}")
    for e in errors:
        log.warning("data-quality facts not computed for %s", e)
    return QualityFacts(now_ms, windows, today, tuple(errors))
