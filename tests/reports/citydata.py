"""A small city (two districts, three sites) and deterministic readings written into a real store.

Counters every 5 minutes: a hydro plant, a housing block with a battery, an office with PV.
Used by the report and dashboard tests (the simulators' backfill covers the default scenario).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from ville_autonome.configuration import PlatformConfig, load_config_text
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import Store

CITY_YAML = """
city: {id: amiens, name: Amiens Métropole}
services:
  store: {backend: sqlite, path: PLACEHOLDER}
  metrics: {interval_minutes: 15, coverage_threshold: 0.9}
gateways: [{id: gw-1}]
districts:
  - id: saint-leu
    name: Saint-Leu
    sites:
      - id: iko-hydro
        name: Centrale IKO
        gateway: gw-1
        devices:
          - {id: iko-turbine, role: production, source: hydro, protocol: mqtt, topic: t/1}
          - {id: iko-grid-meter, role: grid, protocol: mqtt, topic: t/2}
      - id: saint-leu-housing
        name: Logements Saint-Leu
        gateway: gw-1
        devices:
          - {id: slh-load, role: consumption, protocol: mqtt, topic: t/3}
          - {id: slh-grid-meter, role: grid, protocol: mqtt, topic: t/4}
          - {id: slh-battery, role: storage, protocol: mqtt, topic: t/5, capacity_wh: 100000}
  - id: citadelle
    name: Citadelle
    sites:
      - id: campus
        name: Campus
        gateway: gw-1
        devices:
          - {id: cit-load, role: consumption, protocol: mqtt, topic: t/6}
          - {id: cit-pv, role: production, source: pv, protocol: mqtt, topic: t/7}
          - {id: cit-grid-meter, role: grid, protocol: mqtt, topic: t/8}
"""

STEP_MS = 300_000


def city_config(store_path: str) -> PlatformConfig:
    return load_config_text(CITY_YAML.replace("PLACEHOLDER", store_path))


def _ctx(config: PlatformConfig, device: str) -> DeviceContext:
    found = config.device(device)
    assert found is not None
    d, s, dev = found
    return DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "")


def power_w(device: str, ts_ms: int) -> float:
    """Deterministic mean power of each device over the step starting at ``ts_ms`` [W] (≥ 0)."""
    hour = (ts_ms / 3_600_000) % 24
    sun = max(0.0, math.sin(math.pi * (hour - 6) / 12))
    return {
        "iko-turbine": 30_000 + 5_000 * math.sin(ts_ms / 86_400_000),
        "slh-load": 40_000 + 15_000 * math.sin(math.pi * hour / 12),
        "cit-load": 25_000 + 10_000 * sun,
        "cit-pv": 60_000 * sun,
    }[device]


def readings(
    config: PlatformConfig, start_ms: int, end_ms: int, *, silent: set[str] | None = None
) -> list[StoredReading]:
    """Counters and powers for every device from ``start_ms`` to ``end_ms`` every 5 minutes;
    the battery charges from the hydro surplus in the day and discharges at night."""
    silent = silent or set()
    counters: dict[tuple[str, str], float] = {}
    soc = 50.0
    out: list[StoredReading] = []

    def add(device: str, quantity: str, ts: int, value: float) -> None:
        if device not in silent:
            out.append(StoredReading(_ctx(config, device), quantity, ts, value))

    def count(device: str, quantity: str, ts: int, wh: float) -> None:
        key = (device, quantity)
        counters[key] = counters.get(key, 0.0) + wh
        add(device, quantity, ts, counters[key])

    hours = STEP_MS / 3_600_000
    for ts in range(start_ms, end_ms + 1, STEP_MS):
        hydro, slh, cit_load, pv = (power_w(d, ts) for d in ("iko-turbine", "slh-load", "cit-load", "cit-pv"))
        battery = -10_000.0 if 8 <= (ts / 3_600_000) % 24 < 16 and soc < 95 else (8_000.0 if soc > 10 else 0.0)
        soc = min(100.0, max(0.0, soc - battery * hours / 100_000 * 100))
        count("iko-turbine", "energy_produced_wh", ts, hydro * hours)
        add("iko-turbine", "active_power_w", ts, hydro)
        count("iko-grid-meter", "energy_export_wh", ts, hydro * hours)
        count("iko-grid-meter", "energy_import_wh", ts, 0.0)
        add("iko-grid-meter", "active_power_w", ts, -hydro)
        count("slh-load", "energy_consumed_wh", ts, slh * hours)
        add("slh-load", "active_power_w", ts, slh)
        count("slh-battery", "energy_discharged_wh", ts, max(battery, 0.0) * hours)
        count("slh-battery", "energy_charged_wh", ts, max(-battery, 0.0) * hours)
        add("slh-battery", "active_power_w", ts, battery)
        add("slh-battery", "soc_pct", ts, soc)
        slh_net = slh - battery
        count("slh-grid-meter", "energy_import_wh", ts, max(slh_net, 0.0) * hours)
        count("slh-grid-meter", "energy_export_wh", ts, max(-slh_net, 0.0) * hours)
        add("slh-grid-meter", "active_power_w", ts, slh_net)
        count("cit-load", "energy_consumed_wh", ts, cit_load * hours)
        add("cit-load", "active_power_w", ts, cit_load)
        count("cit-pv", "energy_produced_wh", ts, pv * hours)
        add("cit-pv", "active_power_w", ts, pv)
        cit_net = cit_load - pv
        count("cit-grid-meter", "energy_import_wh", ts, max(cit_net, 0.0) * hours)
        count("cit-grid-meter", "energy_export_wh", ts, max(-cit_net, 0.0) * hours)
        add("cit-grid-meter", "active_power_w", ts, cit_net)
    return out


def fill(store: Store, config: PlatformConfig, start: datetime, end: datetime, **kw: set[str]) -> int:
    points = readings(
        config, int(start.astimezone(UTC).timestamp() * 1000), int(end.astimezone(UTC).timestamp() * 1000), **kw
    )
    for i in range(0, len(points), 20_000):
        store.write(points[i : i + 20_000])
    store.refresh_rollups()
    return len(points)
