"""The backfill hands over to live data without counting an interval twice: the simulators'
backfill (readings stamped on interval boundaries, the period's end included) and then live-like
readings of the same models every minute, in a real SQLite store, read by the autonomy.

Method 1.0 booked every backfilled interval one interval late and gave the handover interval
1.6–2× its energy (docs/metrics.md, "Interval boundaries").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from ville_autonome.autonomy_queries import device_energy
from ville_autonome.configuration.loader import load_config
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.simulators.backfill import generate
from ville_autonome.storage.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
STEP_MS = 900_000
HANDOVER = int(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC).timestamp() * 1000)  # a sunny noon


def test_backfill_then_live_counts_each_interval_once(tmp_path: Path) -> None:
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    wanted = {
        "chu-load": "energy_consumed_wh",
        "qi-pv-canopy": "energy_produced_wh",
        "iko-turbine": "energy_produced_wh",
    }

    def stored(start: int, end: int, step_s: int) -> list[StoredReading]:
        return [
            StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value)
            for r in generate(config, start, end, step_s)
            if wanted.get(r.device) == r.quantity
        ]

    store = SqliteStore(tmp_path / "handover.sqlite")
    try:
        store.write(stored(HANDOVER - 8 * STEP_MS, HANDOVER, 900))  # the backfill, up to the handover
        store.write(stored(HANDOVER + 20_000, HANDOVER + 4 * STEP_MS, 60))  # live: a poll every minute
        store.refresh_rollups()
        start, n = HANDOVER - 4 * STEP_MS, 7
        # the truth: the models' counters on the boundaries (the backfill at 15-min steps over the span)
        truth = {
            (r.device, r.ts_ms): r.value
            for r in generate(config, start, start + n * STEP_MS, 900)
            if wanted.get(r.device) == r.quantity
        }
        for device, quantity in wanted.items():
            dev = config.device(device)
            assert dev is not None
            e, used = device_energy(store, dev[2], start, n, 900)
            assert used == (quantity,)
            expected = [
                truth[(device, start + (i + 1) * STEP_MS)] - truth[(device, start + i * STEP_MS)] for i in range(n)
            ]
            # backfilled intervals exactly; the live ones up to their last poll (within a minute of the end)
            got = e.supply_wh + e.draw_wh
            assert got[:4] == pytest.approx(expected[:4], rel=1e-9), device
            handover = got[4]  # the first interval of live data: the rise from the backfill's last reading
            assert handover == pytest.approx(expected[4], rel=0.15, abs=1.0), device  # not 1.6–2×
            assert np.all(e.status[:6] == 0)
    finally:
        store.close()
