"""Live values and flows now, and the push stream (Server-Sent Events) of new readings, flows now
and live autonomy. Flows now are computed here with the engine's rules
(``autonomy_queries.live_flows``): the page only displays them (docs/api.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ville_autonome.autonomy import METHOD_VERSION
from ville_autonome.autonomy.live import FlowsNow
from ville_autonome.autonomy_queries import compute_autonomy, live_flows
from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.dashboard_api.alarm_views import alarms_update
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StoreDep, StreamKey, ViewerKey
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES
from ville_autonome.dashboard_api.params import local_day_start_ms, now_ms
from ville_autonome.dashboard_api.schemas import FlowsNowOut, LiveOut, LiveValueOut
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.storage.base import LatestValue, Store, StoreError

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])


def _live_value(v: LatestValue) -> LiveValueOut:
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


def _flows(store: Store, config: Any, t_ms: int) -> list[dict[str, Any]]:
    """Flows now of the city, every district and every site, as JSON-ready dicts."""
    return [FlowsNowOut(**_flows_fields(f)).model_dump() for f in live_flows(store, config, t_ms)]


def _flows_fields(f: FlowsNow) -> dict[str, Any]:
    return {k: getattr(f, k) for k in FlowsNowOut.model_fields}


@router.get(
    "/live",
    response_model=LiveOut,
    summary="The latest value of every device and quantity, and the flows now of every scope",
    description=(
        "`values`: the latest value of every device and quantity (within services.api.live_window_s). "
        "`flows`: the six flows [W] of the city, every district and every site now, self-sufficiency now "
        "with the engine's attribution, and `partial` with the `missing_devices` when a device has no recent "
        "power reading. `today_start_ms`: midnight in Europe/Paris, resolved on the server."
    ),
    responses=ERROR_RESPONSES,
)
def live(key: ViewerKey, store: StoreDep, config: ConfigDep, settings: ApiSettingsDep) -> LiveOut:
    t = now_ms()
    since = t - settings.live_window_s * 1000
    values = sorted(store.latest(since_ms=since), key=lambda v: (v.context.device, v.quantity))
    return LiveOut(
        since_ms=since,
        now_ms=t,
        today_start_ms=local_day_start_ms(t),
        method_version=METHOD_VERSION,
        values=[_live_value(v) for v in values],
        flows=[FlowsNowOut(**_flows_fields(f)) for f in live_flows(store, config, t)],
    )


def _today_autonomy(store: Store, config: Any, t_ms: int) -> list[dict[str, Any]]:
    """Today's (Europe/Paris) autonomy of every district, then of the city, up to ``t_ms``."""
    out = []
    start = local_day_start_ms(t_ms)
    interval_s = config.services.metrics.interval_minutes * 60
    scopes = [(f"district:{d.id}", d.id) for d in config.districts] + [("city", None)]
    for scope, district in scopes:
        r = compute_autonomy(store, config, scope, start, max(t_ms, start + 1), interval_s)
        m = r.metrics
        out.append(
            {
                "scope": scope,
                "district": district,
                "since_ms": start,
                "self_sufficiency": m.self_sufficiency,
                "self_consumption": m.self_consumption,
                "load_wh": m.load_wh,
                "generation_wh": m.generation_wh,
                "import_wh": m.import_wh,
                "export_wh": m.export_wh,
                "complete": r.complete,
                "method_version": r.method_version,
            }
        )
    return out


def _shared_today_autonomy(request: Request, store: Store, config: Any) -> list[dict[str, Any]]:
    """:func:`_today_autonomy` computed once for every open stream: kept LIVE_AUTONOMY_TTL_S."""
    cache: TtlCache[list[dict[str, Any]]] = request.app.state.live_autonomy
    t = now_ms()
    return cache.get_or_compute(local_day_start_ms(t), lambda: _today_autonomy(store, config, t))


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get(
    "/stream",
    summary="Server-Sent Events: `reading` for every new value, `autonomy` per district and city (today)",
    description=(
        "A `text/event-stream`. Events: `reading` (one new latest value, as in /live), `flows` (the flows "
        "now of every scope, as in /live, after new readings and every `autonomy_every_s`) and `autonomy` "
        "(today's autonomy of every district, then of the city, with its `scope`, every `autonomy_every_s`; "
        "computed once for all streams every few seconds). EventSource cannot send headers: "
        "pass the key as `?api_key=`. `max_events` ends the stream after that many events."
    ),
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"example": 'event: reading\ndata: {"device":"iko-turbine"}\n\n'}}},
        **ERROR_RESPONSES,
    },
)
async def stream(
    key: StreamKey,
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    poll_s: Annotated[float, Query(ge=0.2, le=60, description="how often the store is polled [s]")] = 1.0,
    autonomy_every_s: Annotated[float, Query(ge=1, le=3600, description="live autonomy period [s]")] = 60.0,
    max_events: Annotated[int | None, Query(ge=1, le=1_000_000, description="end after this many events")] = None,
) -> StreamingResponse:
    shutting_down: asyncio.Event = request.app.state.shutting_down

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        since = now_ms() - config.services.api.live_window_s * 1000
        seen: dict[tuple[str, str], int] = {}
        next_autonomy = 0.0
        alarms_sent: list[str] = []  # digest of the last `alarms` event (docs/api.md)
        loop = asyncio.get_running_loop()
        yield b": ville-autonome stream\n\n"
        while True:
            try:
                values = await asyncio.to_thread(store.latest, since_ms=since)
                batch: list[bytes] = []
                for v in sorted(values, key=lambda v: v.ts_ms):
                    k = (v.context.device, v.quantity)
                    if seen.get(k, -1) >= v.ts_ms:
                        continue
                    seen[k] = v.ts_ms
                    since = max(since, v.ts_ms)
                    batch.append(_event("reading", _live_value(v).model_dump()))
                fresh = bool(batch)
                due = loop.time() >= next_autonomy
                if due:
                    next_autonomy = loop.time() + autonomy_every_s
                    today = await asyncio.to_thread(_shared_today_autonomy, request, store, config)
                    batch.append(_event("autonomy", today))
                if fresh or due:  # new readings (or a device gone silent): flows now, computed on the server
                    flows = await asyncio.to_thread(_flows, store, config, now_ms())
                    batch.append(_event("flows", {"now_ms": now_ms(), "flows": flows}))
                if (alarms := await asyncio.to_thread(alarms_update, request.app, alarms_sent)) is not None:
                    batch.append(_event("alarms", alarms))
            except StoreError as exc:
                log.warning("stream: store error: %s", exc)
                batch = [_event("error", {"detail": "the store did not answer"})]
            for chunk in batch:
                yield chunk
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
            if await request.is_disconnected():
                return
            # pacing between polls of the store; a server asked to stop ends the stream at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(shutting_down.wait(), poll_s)
            if shutting_down.is_set():
                yield _event("end", {"detail": "the server is stopping"})
                return

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
