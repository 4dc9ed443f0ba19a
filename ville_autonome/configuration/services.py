"""Typed settings of the services (MQTT broker, store, ingest, API, simulators).

Each field can be overridden by an environment variable ``VA_<SECTION>_<FIELD>`` (upper case),
for example ``VA_MQTT_URL=mqtt://10.0.0.5:1883`` or ``VA_STORE_BACKEND=influxdb``. Secrets
(passwords, tokens) have no defaults and are never echoed in errors or logs.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ville_autonome.configuration.alerts import SECRET_FIELDS as ALERT_SECRET_FIELDS
from ville_autonome.configuration.alerts import AlertSettings
from ville_autonome.configuration.schedule import ReportSettings

SECRET_FIELDS = frozenset({"password", "token"}) | ALERT_SECRET_FIELDS


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(_Section):
    url: str = "mqtt://127.0.0.1:1883"
    topic_root: str = "va"
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: str | None = None
    # mutual TLS: the client's own certificate and key (PEM), when the broker asks for one
    cert_file: str | None = None
    key_file: str | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    # "5" for Mosquitto/EMQX/HiveMQ; "3.1.1" for the embedded demo broker (amqtt speaks 3.1.1 only)
    protocol: Literal["5", "3.1.1"] = "5"

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_as_text(cls, v: object) -> object:
        # `protocol: 5` in YAML (or VA_MQTT_PROTOCOL=5) arrives as a number
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://HOST:PORT or mqtts://HOST:PORT")
        try:
            parts.port  # noqa: B018  (raises on a malformed port)
        except ValueError as exc:
            raise ValueError(f"bad port: {exc}") from exc
        return v

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def use_tls(self) -> bool:
        return self.tls or urlsplit(self.url).scheme == "mqtts"


class StoreSettings(_Section):
    backend: Literal["sqlite", "influxdb"] = "sqlite"
    path: str = "var/ville-autonome.sqlite"
    url: str = "http://127.0.0.1:8086"
    database: str = "ville_autonome"
    retention_policy: str | None = None
    org: str | None = None
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    raw_retention_days: int | None = Field(default=None, ge=1)
    # the rollup compiler (ville-autonome rollups) runs a pass this often: rollups lag raw writes by about this
    rollup_refresh_s: float = Field(default=30.0, ge=0, le=3600)


class IngestSettings(_Section):
    client_id: str = "va-ingest-1"
    shared_group: str | None = None
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    batch_interval_s: float = Field(default=1.0, gt=0, le=60)
    max_future_s: float = Field(default=300.0, ge=0)
    max_past_days: float = Field(default=3650.0, gt=0)
    max_pending_messages: int = Field(default=20_000, ge=1)
    # ingest: payload bytes held (received, not yet acknowledged); one message always passes
    max_pending_bytes: int = Field(default=256 * 2**20, ge=1)
    writers: int = Field(default=2, ge=1, le=8)  # ingest: batches written concurrently (store round trips overlap)
    # ingest in a $share group: keep a persistent session? Mosquitto routes a share of the group's
    # messages to an offline persistent member, where they wait for its return (docs/ingest.md)
    shared_persistent_session: bool = False
    # ingest: gateway ids that may publish readings of every configured device (the simulators'
    # history); every other gateway speaks only for the devices of its own sites (docs/security.md)
    backfill_gateways: list[str] = Field(default_factory=lambda: ["backfill"])
    # ingest: its health as JSON for the container's health check (va-healthcheck status FILE)
    status_file: str | None = None


class GatewayProcessSettings(_Section):
    """What a ``ville-autonome gateway`` process shares with every gateway it runs."""

    # the health as JSON for `va-healthcheck status FILE`; "{gateway}" in it stands for each
    # gateway's id (required with --all: one file per gateway)
    status_file: str | None = None


class ApiKey(_Section):
    name: str
    role: Literal["viewer", "operator", "staff", "admin"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    keys: list[ApiKey] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)
    max_request_bytes: int = Field(default=1_000_000, ge=1024)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    live_window_s: int = Field(default=3600, ge=1)
    max_points: int = Field(default=50_000, ge=1)
    max_range_days: int = Field(default=400, ge=1)
    # the MQTT client id of this API process's command client: stable across restarts, one per API
    # process, so that its persistent session keeps the results published while it was down
    command_client_id: str = Field(default="va-api-1", min_length=1, max_length=64)


class SimulatorSettings(_Section):
    host: str = "127.0.0.1"
    seed: int = 2050
    speed: float = Field(default=1.0, gt=0, le=100_000)
    scenario: str | None = None


class MetricsSettings(_Section):
    interval_minutes: Literal[15, 30] = 15
    grid_emission_factor_g_per_kwh: float = Field(default=52.0, ge=0)
    coverage_threshold: float = Field(default=0.9, ge=0, le=1)
    # balance closure (docs/metrics.md): an interval is unbalanced above max(tolerance × throughput, floor)
    balance_tolerance: float = Field(default=0.05, gt=0, le=1)
    balance_floor_wh: float = Field(default=50.0, ge=0)
    # a device silent this long (or 3 poll intervals) at an interval's end went silent there (stale)
    stale_after_s: float = Field(default=60.0, gt=0)


class ServiceSettings(_Section):
    environment: Literal["development", "production"] = "development"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    gateway: GatewayProcessSettings = Field(default_factory=GatewayProcessSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)  # scheduled monthly reports
    alerts: AlertSettings = Field(default_factory=AlertSettings)  # the alerts evaluator (docs/alerts.md)


# the sections an environment variable VA_<SECTION>_<FIELD> may address
OVERRIDABLE_SECTIONS: dict[str, type[BaseModel]] = {
    "mqtt": MqttSettings,
    "store": StoreSettings,
    "ingest": IngestSettings,
    "gateway": GatewayProcessSettings,
    "api": ApiSettings,
    "simulator": SimulatorSettings,
    "metrics": MetricsSettings,
    "reports": ReportSettings,
    "alerts": AlertSettings,
}
