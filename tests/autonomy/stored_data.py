"""A small city with consistent energy counters, written to a real store, for the query and API tests.

Two districts, three sites: ``sun`` (grid meter, load, PV, battery), ``town`` (grid meter, load)
and ``river`` (hydro turbine behind an injection meter, no load meter). Powers are smooth
functions of time; counters integrate them exactly, so every interval's energy is known.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

from ville_autonome.configuration.loader import load_config_text
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import Store

KEYS = {role: f"{role}-key-0123456789abcdef" for role in ("viewer", "operator", "staff", "admin")}
T0 = 1_767_222_000_000  # 2026-01-01T00:00:00+01:00 (UTC 2025-12-31T23:00Z), aligned on 15 min
DAY_MS = 86_400_000


def config_text(store_lines: str = "    backend: sqlite\n    path: ':memory:'", extra_api: str = "") -> str:
    keys = "\n".join(
        f"      - name: {role}\n        role: {role}\n        sha256: {hashlib.sha256(k.encode()).hexdigest()}"
        for role, k in KEYS.items()
    )
    return f"""\
city:
  id: testville
services:
  store:
{store_lines}
  api:
    max_range_days: 400
    max_points: 5000
{extra_api}    keys:
{keys}
gateways:
  - id: gw-1
districts:
  - id: north
    sites:
      - id: sun
        gateway: gw-1
        devices:
          - {{id: sun-grid, role: grid, address: "127.0.0.1:15601", profile: sunspec-meter-203}}
          - {{id: sun-load, role: consumption, address: "127.0.0.1:15602", profile: sunspec-meter-203}}
          - {{id: sun-pv, role: production, source: pv, address: "127.0.0.1:15603", profile: sunspec-meter-203}}
          - {{id: sun-battery, role: storage, address: "127.0.0.1:15604", profile: sunspec-meter-203, capacity_wh: 20000, rated_power_w: 5000}}
      - id: town
        gateway: gw-1
        devices:
          - {{id: town-grid, role: grid, address: "127.0.0.1:15605", profile: sunspec-meter-203}}
          - {{id: town-load, role: consumption, address: "127.0.0.1:15606", profile: sunspec-meter-203}}
  - id: south
    sites:
      - id: river
        gateway: gw-1
        devices:
          - {{id: river-grid, role: grid, address: "127.0.0.1:15607", profile: sunspec-meter-203}}
          - {{id: river-turbine, role: production, source: hydro, address: "127.0.0.1:15608", profile: sunspec-meter-203}}
"""


def make_config(store_lines: str = "    backend: sqlite\n    path: ':memory:'", extra_api: str = "") -> PlatformConfig:
    return load_config_text(config_text(store_lines, extra_api), environ={})


def powers_w(t_ms: int) -> dict[str, float]:
    """Device powers at ``t_ms`` [W], signs of docs/conventions.md, balance closed by the grid meters."""
    hour = ((t_ms - T0) / 3_600_000) % 24
    pv = max(0.0, 6000 * math.sin(math.pi * (hour - 6) / 12)) if 6 <= hour <= 18 else 0.0
    sun_load = 2000 + 800 * math.sin(math.pi * hour / 12)
    battery = -1500.0 if 10 <= hour < 14 else (1200.0 if 18 <= hour < 22 else 0.0)  # + discharge
    town_load = 3000 + 1000 * math.cos(math.pi * hour / 12)
    hydro = 2500 + 500 * math.sin(2 * math.pi * (t_ms - T0) / (7 * DAY_MS))
    return {
        "sun-pv": pv,
        "sun-load": sun_load,
        "sun-battery": battery,
        "sun-grid": sun_load - pv - battery,
        "town-load": town_load,
        "town-grid": town_load,
        "river-turbine": hydro,
        "river-grid": -hydro,
    }


def readings(config: PlatformConfig, start_ms: int, end_ms: int, step_s: int) -> Iterator[StoredReading]:
    """Power gauges and energy counters every ``step_s`` from ``start_ms`` to ``end_ms`` (inclusive)."""
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    counters: dict[tuple[str, str], float] = {}
    soc = 50.0
    step_h = step_s / 3600
    t = start_ms
    while t <= end_ms:
        p = powers_w(t)
        for dev, w in p.items():
            c = ctx[dev]
            yield StoredReading(c, "active_power_w", t, w)
            if c.role == "grid" or c.role == "storage":
                pos, neg = (
                    ("energy_import_wh", "energy_export_wh")
                    if c.role == "grid"
                    else ("energy_discharged_wh", "energy_charged_wh")
                )
                for q, v in ((pos, max(w, 0.0)), (neg, max(-w, 0.0))):
                    counters[(dev, q)] = counters.get((dev, q), 1000.0)
                    yield StoredReading(c, q, t, counters[(dev, q)])
                    counters[(dev, q)] += v * step_h
            else:
                q = "energy_produced_wh" if c.role == "production" else "energy_consumed_wh"
                counters[(dev, q)] = counters.get((dev, q), 5000.0)
                yield StoredReading(c, q, t, counters[(dev, q)])
                counters[(dev, q)] += w * step_h
        soc = min(100.0, max(0.0, soc - p["sun-battery"] * step_h / 20000 * 100))
        yield StoredReading(ctx["sun-battery"], "soc_pct", t, soc)
        t += step_s * 1000


def fill(store: Store, config: PlatformConfig, start_ms: int, end_ms: int, step_s: int = 450) -> int:
    """Write the readings to ``store`` in batches; returns how many."""
    batch: list[StoredReading] = []
    total = 0
    for r in readings(config, start_ms, end_ms, step_s):
        batch.append(r)
        if len(batch) >= 5000:
            total += store.write(batch).written
            batch = []
    if batch:
        total += store.write(batch).written
    store.refresh_rollups()
    return total
