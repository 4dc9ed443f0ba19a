"""Platform operations: sequence gaps, Prometheus ``/metrics``, and the configuration (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from ville_autonome.dashboard_api.alarm_views import alarm_metrics_text
from ville_autonome.dashboard_api.command_bus import CommandBus
from ville_autonome.dashboard_api.deps import AdminKey, ConfigDep, OperatorKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, BadParameterError
from ville_autonome.dashboard_api.params import now_ms
from ville_autonome.dashboard_api.schemas import GapOut, GapsOut
from ville_autonome.dashboard_api.telemetry import LATENCY_BUCKETS_S, Telemetry

router = APIRouter(tags=["operations"])
root_router = APIRouter(tags=["operations"])


@router.get(
    "/gaps",
    response_model=GapsOut,
    summary="Uplink envelopes that never reached the store, per gateway (sequence-number gaps)",
    responses=ERROR_RESPONSES,
)
def gaps(
    key: OperatorKey,
    config: ConfigDep,
    store: StoreDep,
    gateway: Annotated[str | None, Query(description="one gateway id", examples=["gw-saint-leu"])] = None,
) -> GapsOut:
    if gateway is not None and config.gateway(gateway) is None:
        raise BadParameterError(f"gateway: unknown gateway {gateway[:80]!r}", "gateway")
    found = store.gaps(gateway)
    items = [GapOut(gateway=g.gateway, first_seq=g.first_seq, last_seq=g.last_seq, missing=g.missing) for g in found]
    return GapsOut(gaps=items, missing_total=sum(g.missing for g in items))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(stats: dict[str, dict[str, float]], gap_list: list[Any], telemetry: Telemetry) -> str:
    """The Prometheus text exposition (format 0.0.4) of the platform's own figures."""
    lines = [
        "# HELP va_service_counter Counters reported by the platform's services (ingest rate, dead letters, ...).",
        "# TYPE va_service_counter gauge",
    ]
    for service, values in sorted(stats.items()):
        for name, value in sorted(values.items()):
            lines.append(f'va_service_counter{{service="{_label(service)}",counter="{_label(name)}"}} {float(value)}')
    lines += [
        "# HELP va_gateway_missing_envelopes Uplink envelopes never stored, per gateway (sequence gaps).",
        "# TYPE va_gateway_missing_envelopes gauge",
    ]
    per_gateway: dict[str, int] = {}
    for g in gap_list:
        per_gateway[g.gateway] = per_gateway.get(g.gateway, 0) + g.missing
    for gw, missing in sorted(per_gateway.items()):
        lines.append(f'va_gateway_missing_envelopes{{gateway="{_label(gw)}"}} {missing}')
    requests, buckets, sums, counts = telemetry.snapshot()
    lines += [
        "# HELP va_api_requests_total API requests by route, method and status.",
        "# TYPE va_api_requests_total counter",
    ]
    for (route, method, status), n in sorted(requests.items()):
        lines.append(f'va_api_requests_total{{route="{_label(route)}",method="{method}",status="{status}"}} {n}')
    lines += [
        "# HELP va_api_request_duration_seconds API query latency by route.",
        "# TYPE va_api_request_duration_seconds histogram",
    ]
    for route in sorted(buckets):
        cumulative = 0
        for le, n in zip([*LATENCY_BUCKETS_S, float("inf")], buckets[route], strict=True):
            cumulative += n
            le_text = "+Inf" if le == float("inf") else repr(le)
            lines.append(
                f'va_api_request_duration_seconds_bucket{{route="{_label(route)}",le="{le_text}"}} {cumulative}'
            )
        lines.append(f'va_api_request_duration_seconds_sum{{route="{_label(route)}"}} {sums[route]}')
        lines.append(f'va_api_request_duration_seconds_count{{route="{_label(route)}"}} {counts[route]}')
    return "\n".join(lines) + "\n"


def collision_metrics_text(bus: CommandBus | None) -> str:
    """1 while another process uses the command client's MQTT client id (docs/commands.md); no
    line before the client exists (nothing is known yet)."""
    if bus is None or not bus.has_client:
        return ""
    return (
        "# HELP va_mqtt_client_id_collision 1 while another process uses this MQTT client id.\n"
        "# TYPE va_mqtt_client_id_collision gauge\n"
        f'va_mqtt_client_id_collision{{service="api",client_id="{_label(bus.client_id)}"}} '
        f"{1 if bus.client_id_collision else 0}\n"
    )


@root_router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics: service counters, gateway gaps, API latency (operator key)",
    responses={
        200: {
            "content": {
                "text/plain": {"example": 'va_api_requests_total{route="/api/v1/live",method="GET",status="200"} 3\n'}
            }
        },
        **ERROR_RESPONSES,
    },
)
def metrics(key: OperatorKey, request: Request, store: StoreDep) -> PlainTextResponse:
    text = prometheus_text(store.service_stats(), store.gaps(), request.app.state.telemetry)
    text += alarm_metrics_text(request.app, store, now_ms())  # alarm gauges (docs/alerts.md)
    text += collision_metrics_text(getattr(request.app.state, "command_bus", None))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.get(
    "/config",
    summary="The running configuration, secrets redacted (admin key)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"city": {"id": "amiens"}, "services": {"store": {"password": "**********"}}}
                }
            }
        },
        **ERROR_RESPONSES,
    },
)
def configuration(key: AdminKey, config: ConfigDep) -> dict[str, Any]:
    doc: dict[str, Any] = config.model_dump(mode="json")  # SecretStr dumps as "**********"
    for k in doc.get("services", {}).get("api", {}).get("keys", []):
        k["sha256"] = "**********"
    return doc
