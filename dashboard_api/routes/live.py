"""Live values and flows now, and the push stream (Server-Sent Events) of new readings, flows now
and live autonomy. Flows now are computed on the server with the engine's rules
(``autonomy_queries.flows_from_latest``): the page only displays them (docs/api.md).

Every open stream is fed by one live hub per process (:mod:`dashboard_api.live_hub`): the store
is polled once per tick whatever the number of dashboards. To add an event to every stream,
add a feed to the list :func:`live_hub` builds the hub with (the ``Feed`` protocol).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from ville_autonome.autonomy import METHOD_VERSION
from ville_autonome.autonomy_queries import compute_autonomy, live_flows
from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.alarm_feed import AlarmsFeed
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StoreDep, StreamKey, ViewerKey
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES
from ville_autonome.dashboard_api.live_feed import ReadingsFeed, flows_out, live_value
from ville_autonome.dashboard_api.live_hub import Chunk, LiveHub, sse
from ville_autonome.dashboard_api.params import local_day_start_ms, now_ms
from ville_autonome.dashboard_api.schemas import LiveOut
from ville_autonome.storage.base import Store, StoreError

KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing a quiet stream


def live_hub(app: FastAPI) -> LiveHub:
    """The process's live hub (made at the first stream: the app's store is open by then)."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        hub = app.state.live_hub = LiveHub([ReadingsFeed(app.state.store, app.state.config), AlarmsFeed(app)])
    return hub


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        hub: LiveHub | None = getattr(app.state, "live_hub", None)
        if hub is not None:
            await hub.stop()


router = APIRouter(tags=["live"], lifespan=lifespan)


@router.get(
    "/live",
    response_model=LiveOut,
    summary="The latest value of every device and quantity, and the flows now of every scope",
    description=(
        "`values`: the latest value of every device and quantity (within services.api.live_window_s). "
        "`flows`: the six flows [W] of the city, every district and every site now, self-sufficiency now "
        "with the engine's attribution, the links of the flow diagram, and `partial` with the "
        "`missing_devices` when a device has no recent power reading. `today_start_ms`: midnight in "
        "Europe/Paris, resolved on the server."
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
        values=[live_value(v) for v in values],
        flows=[flows_out(f) for f in live_flows(store, config, t)],
    )


def _today_autonomy(store: Store, config: PlatformConfig, t_ms: int) -> list[dict[str, Any]]:
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


def _shared_today_autonomy(request: Request, store: Store, config: PlatformConfig) -> list[dict[str, Any]]:
    """:func:`_today_autonomy` computed once for every open stream: kept LIVE_AUTONOMY_TTL_S."""
    cache: TtlCache[list[dict[str, Any]]] = request.app.state.live_autonomy
    t = now_ms()
    return cache.get_or_compute(local_day_start_ms(t), lambda: _today_autonomy(store, config, t))


@router.get(
    "/stream",
    summary="Server-Sent Events: `reading` for every new value, `flows` now, `alarms`, `autonomy` per district and city (today)",
    description=(
        "A `text/event-stream`. Events: `reading` (one new latest value, as in /live; first the latest "
        "value of every device and quantity), `flows` (the flows now of every scope, as in /live, after new "
        "readings and every few seconds), `alarms` (counts by severity and the active alarms, when the "
        "stream opens and whenever they change: docs/alerts.md) and `autonomy` (today's autonomy of every "
        "district, then of the city, with its `scope`, every `autonomy_every_s`; computed once for all streams every few "
        "seconds); `error` when the store did not answer (the stream stays open), `end` when the server "
        "stops or the client fell behind. One poller per API process feeds every open stream. "
        "EventSource cannot send headers: pass the key as `?api_key=`. `max_events` ends the stream "
        "after that many events."
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
    poll_s: Annotated[
        float, Query(ge=0.2, le=60, description="ignored: one poller per process feeds every stream")
    ] = 1.0,
    autonomy_every_s: Annotated[float, Query(ge=1, le=3600, description="live autonomy period [s]")] = 60.0,
    max_events: Annotated[int | None, Query(ge=1, le=1_000_000, description="end after this many events")] = None,
) -> StreamingResponse:
    shutting_down: asyncio.Event = request.app.state.shutting_down
    hub = live_hub(request.app)

    async def autonomy() -> Chunk:
        try:
            return sse("autonomy", await asyncio.to_thread(_shared_today_autonomy, request, store, config))
        except StoreError:
            return sse("error", {"feed": "autonomy", "detail": "the store did not answer"})

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        loop = asyncio.get_running_loop()
        async with hub.subscribe() as (sub, snapshot):
            yield b": ville-autonome stream\n\n"
            # the latest readings, today's autonomy, then the rest (flows now…), as a poll of the store would
            readings = [c for c in snapshot if c.startswith(b"event: reading\n")]
            rest = [c for c in snapshot if not c.startswith(b"event: reading\n")]
            pending: list[Chunk] = [*readings, await autonomy(), *rest]
            next_autonomy = loop.time() + autonomy_every_s
            while True:
                if max_events is None:
                    if pending:
                        yield b"".join(pending)
                else:
                    for chunk in pending:
                        yield chunk
                        sent += 1
                        if sent >= max_events:
                            return
                if sub.overflowed and sub.queue.empty():
                    return
                pending = await _next(sub, shutting_down, min(KEEPALIVE_S, next_autonomy - loop.time()))
                if shutting_down.is_set():
                    yield sse("end", {"detail": "the server is stopping"})
                    return
                if loop.time() >= next_autonomy:
                    next_autonomy = loop.time() + autonomy_every_s
                    pending.append(await autonomy())
                if not pending:
                    pending = [b": keep-alive\n\n"] if max_events is None else []

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


async def _next(sub: Any, stop: asyncio.Event, timeout_s: float) -> list[Chunk]:
    """The next tick of events for ``sub`` (every tick already queued), or [] on timeout or stop."""
    getter = asyncio.ensure_future(sub.queue.get())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({getter, stopper}, timeout=max(0.0, timeout_s), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not getter.done():
            getter.cancel()
    if not getter.done() or getter.cancelled():
        return []
    chunks = list(getter.result())
    while not sub.queue.empty():
        chunks += sub.queue.get_nowait()
    return chunks
