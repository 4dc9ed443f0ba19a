"""``services.metrics.stale_after_s``: how long a device may be silent before the interval of its
last reading is ``stale`` (docs/metrics.md, "silent for good"): 60 s unless configured."""

from __future__ import annotations

from tests.autonomy.stored_data import T0, config_text, fill
from ville_autonome.autonomy.counters import Anomaly
from ville_autonome.autonomy_queries.reading import scope_inputs
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.sqlite_store import SqliteStore

HOUR_MS = 3_600_000
LAST = T0 + HOUR_MS + 450_000  # every device's last reading, inside an interval (open until now)


def stale_devices(config: PlatformConfig, store: SqliteStore, now_ms: int) -> set[str]:
    inputs = scope_inputs(store, config, "city", T0, LAST + 900_000, 900, now_ms=now_ms)
    return {d.device for s in inputs.sites for d in s.devices if (d.anomalies & Anomaly.STALE).any()}


def test_a_device_silent_longer_than_the_setting_is_stale() -> None:
    default = load_config_text(config_text(), environ={})
    quick = load_config_text(config_text(), environ={"VA_METRICS_STALE_AFTER_S": "20"})
    assert default.services.metrics.stale_after_s == 60.0
    store = SqliteStore(":memory:")
    try:
        fill(store, default, T0, LAST)
        every = {dev.id for _, _, dev in default.devices()}
        assert stale_devices(default, store, LAST + 30_000) == set()  # silent 30 s: not yet
        assert stale_devices(quick, store, LAST + 30_000) == every  # ... but past 20 s
        assert stale_devices(quick, store, LAST + 10_000) == set()
        assert stale_devices(default, store, LAST + 90_000) == every
    finally:
        store.close()
