"""A small topology and observations for the pure tests of tests/alerts."""

from __future__ import annotations

from typing import Any

from ville_autonome.alerts.observation import GatewayBuffer, Observation, QualityFacts, ScopeFacts, Value, last_good
from ville_autonome.configuration import load_config_text
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.quantities import QUANTITIES

T0 = 1_767_225_600_000  # 2026-01-01T00:00Z

TOPOLOGY = """\
city:
  id: testville
gateways:
  - id: gw-a
  - id: gw-b
districts:
  - id: north
    sites:
      - id: plant
        gateway: gw-a
        devices:
          - {id: plant-meter, role: grid, protocol: mqtt, topic: shellies/plant-meter, preset: shelly-pro-3em}
          - {id: turbine, role: production, source: hydro, protocol: mqtt, topic: t/turbine}
      - id: homes
        gateway: gw-a
        devices:
          - {id: homes-meter, role: grid, protocol: mqtt, topic: shellies/homes-meter, preset: shelly-pro-3em}
          - {id: homes-load, role: consumption, protocol: mqtt, topic: t/homes-load}
  - id: south
    sites:
      - id: hub
        gateway: gw-b
        devices:
          - {id: hub-meter, role: grid, protocol: mqtt, topic: shellies/hub-meter, preset: shelly-pro-3em}
          - {id: battery, role: storage, protocol: mqtt, topic: t/battery, capacity_wh: 100000}
"""


def config(rules: str, services: str = "") -> PlatformConfig:
    text = TOPOLOGY + (f"services:\n{services}" if services else "") + "alerts:\n  rules:\n" + rules
    return load_config_text(text, source="lab.yaml", environ={}, known_quantities=frozenset(QUANTITIES))


def health(device: str, gateway: str, last_seen_ms: int | None, updated_ms: int, online: bool = True) -> DeviceHealth:
    return DeviceHealth(device, gateway, online, last_seen_ms, updated_ms)


def observe(
    now_ms: int,
    *,
    values: dict[tuple[str, str], tuple[int, float | None] | tuple[int, float | None, bool]] | None = None,
    health_records: list[DeviceHealth] | None = None,
    started_ms: int = T0,
    **kw: Any,
) -> Observation:
    vals = {}
    for k, v in (values or {}).items():
        good = v[2] if len(v) == 3 else v[1] is not None  # type: ignore[misc]
        vals[k] = Value(v[0], v[1], good)
    return Observation(
        now_ms=now_ms,
        started_ms=started_ms,
        values=vals,
        last_good_ms=last_good(vals),
        health={h.device: h for h in health_records or []},
        newest_reading_ms=kw.pop("newest_reading_ms", max((v.ts_ms for v in vals.values()), default=None)),
        **kw,
    )


def facts(scope: str, *, coverage: float = 1.0, flags: tuple[str, ...] = (), ss: float | None = None) -> ScopeFacts:
    return ScopeFacts(scope, T0, T0 + 3_600_000, coverage, not flags and coverage >= 0.9, flags, ss)


def quality(windows: dict[tuple[str, int], ScopeFacts], today: dict[str, ScopeFacts] | None = None) -> QualityFacts:
    return QualityFacts(T0, windows, today or {})


__all__ = ["T0", "GatewayBuffer", "config", "facts", "health", "observe", "quality"]
