"""Live values for the dashboard tests: readings "now" and the gateways' health reports."""

from __future__ import annotations

import time

from ville_autonome.configuration import PlatformConfig
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import Store


def _now_ms() -> int:
    return int(time.time() * 1000)


def write_now(store: Store, config: PlatformConfig, values: dict[tuple[str, str], float], ts_ms: int) -> None:
    points = []
    for (device, quantity), value in values.items():
        found = config.device(device)
        assert found is not None
        d, s, dev = found
        points.append(
            StoredReading(DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or ""), quantity, ts_ms, value)
        )
    store.write(points)


def health(config: PlatformConfig, ts_ms: int, offline: set[str] = frozenset()) -> list[DeviceHealth]:  # type: ignore[assignment]
    return [DeviceHealth(dev.id, s.gateway, dev.id not in offline, ts_ms, ts_ms) for _, s, dev in config.devices()]


LIVE = {
    ("iko-turbine", "active_power_w"): 30_000.0,
    ("iko-grid-meter", "active_power_w"): -30_000.0,
    ("slh-load", "active_power_w"): 42_000.0,
    ("slh-battery", "active_power_w"): 8_000.0,
    ("slh-battery", "soc_pct"): 64.0,
    ("slh-grid-meter", "active_power_w"): 34_000.0,
    ("cit-pv", "active_power_w"): 12_000.0,
    ("cit-grid-meter", "active_power_w"): 8_000.0,
}
