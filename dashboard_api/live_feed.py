"""The readings and the flows now, as one feed of the live hub (:mod:`dashboard_api.live_hub`).

The feed keeps the latest value of every device and quantity in memory. Each poll asks the store
only for what changed in the last ``LOOKBACK_S`` seconds (late writes included: a reading is new
when its time is newer than the one held, whatever order the ingest wrote them in); every
``FULL_EVERY_S`` it re-reads the whole live window and the gateways' health reports. After new
readings, and at every full read (a device may have gone silent), it computes the flows now of
every scope from what it holds, with the engine's rules (``autonomy_queries.flows_from_latest``),
once for all streams.

Events: ``reading`` (one new latest value, as in ``GET /live``) and ``flows`` (``{"now_ms",
"flows"}``, each scope's flows now with the links of its flow diagram).
"""

from __future__ import annotations

import threading
import time

from ville_autonome.autonomy.live import FlowsNow
from ville_autonome.autonomy_queries.live import flows_from_latest
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.flow_links import flow_links
from ville_autonome.dashboard_api.live_hub import TICK_S, Chunk, sse
from ville_autonome.dashboard_api.schemas import FlowLinkOut, FlowsNowOut, LiveValueOut
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.series.values import LatestValue
from ville_autonome.storage.base import Store

LOOKBACK_S = 30.0  # each poll re-reads this much: readings written late are still pushed
FULL_EVERY_S = 5.0  # the whole live window and the health reports are re-read this often


def live_value(v: LatestValue) -> LiveValueOut:
    q = QUANTITIES.get(v.quantity)
    c = v.context
    return LiveValueOut(
        district=c.district,
        site=c.site,
        device=c.device,
        role=c.role,
        source=c.source,
        quantity=v.quantity,
        unit=q.unit if q else None,
        ts=v.ts_ms,
        value=v.value,
        quality=str(v.quality),
    )


def flows_out(f: FlowsNow) -> FlowsNowOut:
    """The flows of one scope now, with the links of its diagram [W] (:mod:`dashboard_api.flow_links`)."""
    fields = {k: getattr(f, k) for k in FlowsNowOut.model_fields if k != "links"}
    links = flow_links(f.generation_by_source_w, f.load_w, f.charge_w, f.discharge_w, f.import_w, f.export_w)
    return FlowsNowOut(**fields, links=[FlowLinkOut(source=x.source, target=x.target, value=x.value) for x in links])


class ReadingsFeed:
    """Latest values and flows now for every stream (module docstring)."""

    name = "readings"

    def __init__(self, store: Store, config: PlatformConfig, *, every_s: float = TICK_S) -> None:
        self.store = store
        self.config = config
        self.every_s = every_s
        self.window_ms = config.services.api.live_window_s * 1000
        self._lock = threading.Lock()
        self._table: dict[tuple[str, str], LatestValue] = {}
        self._offline: set[str] = set()
        self._flows: Chunk | None = None
        self._next_full = 0.0

    def poll(self, now_ms: int) -> list[Chunk]:
        full = time.monotonic() >= self._next_full
        since = now_ms - (self.window_ms if full else int(LOOKBACK_S * 1000))
        values = self.store.latest(since_ms=since)
        offline = {h.device for h in self.store.health() if not h.online} if full else self._offline
        if full:
            self._next_full = time.monotonic() + FULL_EVERY_S
        fresh: list[LatestValue] = []
        with self._lock:
            for v in values:
                k = (v.context.device, v.quantity)
                held = self._table.get(k)
                if held is None or held.ts_ms < v.ts_ms:
                    self._table[k] = v
                    fresh.append(v)
            if full:
                self._table = {k: v for k, v in self._table.items() if v.ts_ms >= now_ms - self.window_ms}
            self._offline = offline
            table = list(self._table.values())
        out = [sse("reading", live_value(v).model_dump()) for v in sorted(fresh, key=lambda v: v.ts_ms)]
        if fresh or full:
            flows = flows_from_latest(table, offline, self.config, now_ms)
            chunk = sse("flows", {"now_ms": now_ms, "flows": [flows_out(f).model_dump() for f in flows]})
            with self._lock:
                self._flows = chunk
            out.append(chunk)
        return out

    def snapshot(self) -> list[Chunk]:
        with self._lock:
            values = sorted(self._table.values(), key=lambda v: v.ts_ms)
            flows = self._flows
        out = [sse("reading", live_value(v).model_dump()) for v in values]
        return [*out, flows] if flows is not None else out

    def latest(self) -> list[LatestValue]:
        with self._lock:
            return list(self._table.values())
