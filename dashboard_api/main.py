"""Build the API: ``create_app(config, store=None) -> FastAPI``.

Routes live under ``/api/v1`` (``/metrics`` at the root for Prometheus); see docs/api.md. The
store is opened from ``config.services.store`` at start-up when none is given, and closed on
shutdown (a store passed in belongs to the caller). CORS is closed unless
``services.api.cors_origins`` lists origins; request bodies are limited to
``services.api.max_request_bytes``; every key has its own rate limit.

The dashboard pages (``dashboard_api.web.routes``) and the report downloads
(``dashboard_api.routes.reports``) are served by the same app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ville_autonome.autonomy_queries import EnergyCache
from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.deps import RateLimiter
from ville_autonome.dashboard_api.errors import install_error_handlers
from ville_autonome.dashboard_api.routes import alarms as alarm_routes
from ville_autonome.dashboard_api.routes import (
    autonomy,
    commands,
    devices,
    energy,
    live,
    operations,
    reports,
    scenarios,
    series,
    status,
    trajectory,
)
from ville_autonome.dashboard_api.telemetry import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    Telemetry,
    TelemetryMiddleware,
)
from ville_autonome.dashboard_api.web import routes as web_routes
from ville_autonome.dashboard_api.web import staff_routes
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
ENERGY_CACHE_TTL_S = 60.0
LIVE_AUTONOMY_TTL_S = 5.0  # today's autonomy in /stream is at most this old

DESCRIPTION = """\
Energy autonomy of the city of Amiens: live values, series, autonomy metrics and platform
operations. Every route but `/api/v1/health` needs an API key (`Authorization: Bearer <key>` or
`X-API-Key`), whose role — viewer < operator < staff < admin — must reach the route's.
Times: ISO 8601 with an offset or `Z`, a date (Europe/Paris midnight), or epoch milliseconds.
Energies in Wh, powers in W, ratios in [0, 1].
"""


def create_app(config: PlatformConfig, store: Store | None = None) -> FastAPI:
    """The API app for ``config``; opens (and later closes) the configured store if ``store`` is None."""
    settings = config.services.api

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is None:
            app.state.store = open_store(config.services.store)
            try:
                yield
            finally:
                app.state.store.close()
        else:
            yield

    app = FastAPI(
        title="Ville Autonome 2050 API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI from the installed swagger-ui-bundle wheel: dashboard_api.web.routes
        redoc_url=None,
    )
    app.state.config = config
    app.state.store = store
    # set when the server is asked to stop: open event streams end at once (routes.live)
    app.state.shutting_down = asyncio.Event()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.telemetry = Telemetry()
    # device energies of recent autonomy queries, shared by requests (new data shows within ENERGY_CACHE_TTL_S)
    app.state.energy_cache = EnergyCache(ttl_s=ENERGY_CACHE_TTL_S, max_entries=2048)
    # today's autonomy pushed by /stream: computed once for every open stream
    app.state.live_autonomy = TtlCache(ttl_s=LIVE_AUTONOMY_TTL_S, max_entries=4)
    install_error_handlers(app)
    for module in (status, live, series, autonomy, operations, reports, commands, energy, devices):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(alarm_routes.router, prefix=API_PREFIX)  # alarms and their events (docs/alerts.md)
    for module in (scenarios, trajectory):  # planning: what would it take, the road to 2050 (docs/planning.md)
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(operations.root_router)
    app.include_router(web_routes.router)
    app.include_router(staff_routes.router)  # the staff pages (/staff/): scenarios, trajectory, reports
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["Authorization", "X-API-Key"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(TelemetryMiddleware, telemetry=app.state.telemetry)
    app.add_middleware(SecurityHeadersMiddleware, docs_path=f"{API_PREFIX}/docs")
    return app
