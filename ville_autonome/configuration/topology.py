"""The city's topology: city → districts → sites → devices, and the gateways that read them.

Every device has a role in its site's energy balance (docs/conventions.md):
``production`` (with a ``source``: hydro, pv, wind, chp), ``consumption``, ``storage``, or
``grid`` (the site's grid connection point). A device is read over ``modbus-tcp``,
``modbus-rtu`` or ``mqtt`` by the gateway its site names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.configuration import mqtt_presets
from ville_autonome.configuration.alerts import AlertRules
from ville_autonome.configuration.mqtt_mapping import MqttField, MqttTopic
from ville_autonome.configuration.services import ServiceSettings
from ville_autonome.configuration.targets import ScopeTarget

Role = Literal["production", "consumption", "storage", "grid"]
Source = Literal["hydro", "pv", "wind", "chp"]
Protocol = Literal["modbus-tcp", "modbus-rtu", "mqtt"]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SerialSettings(_Node):
    """Modbus RTU line settings (``protocol: modbus-rtu``; ``address`` is the serial port)."""

    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8


class DeviceConfig(_Node):
    id: str = Field(pattern=SLUG)
    name: str = ""
    role: Role
    source: Source | None = None
    protocol: Protocol = "modbus-tcp"
    address: str = Field(default="", description="HOST:PORT for modbus-tcp, a serial port for modbus-rtu")
    # Modbus TCP devices answer 1-247, 0 or 255 (the "direct" id of many TCP-only devices);
    # on a serial line (modbus-rtu) only 1-247 address a device (configuration.checks)
    unit_id: int = Field(default=1, ge=0, le=255)
    profile: str | None = None
    poll_interval_s: float = Field(default=1.0, gt=0, le=86_400)
    timeout_s: float = Field(default=1.0, gt=0, le=60)
    serial: SerialSettings | None = None
    # MQTT: one topic with its fields, or a preset (configuration.mqtt_presets) under the topic
    # prefix ``topic``, or explicit ``topics``
    topic: str | None = None
    fields: list[MqttField] = Field(default_factory=list)
    preset: str | None = None
    topics: list[MqttTopic] = Field(default_factory=list)
    max_clock_skew_s: float = Field(
        default=30.0, ge=0, le=86_400, description="use the device's own timestamp only within this of reception"
    )
    capacity_wh: float | None = Field(default=None, gt=0, description="storage: usable capacity")
    rated_power_w: float | None = Field(default=None, gt=0)
    # gateway acquisition (docs/gateway.md)
    stuck_after_s: float | None = Field(default=None, gt=0, description="flag a gauge unchanged this long as stuck")
    max_backoff_s: float = Field(default=60.0, gt=0, le=3600, description="cap of the retry delay of a silent device")
    sunspec_discovery: bool = Field(default=True, description="walk the SunSpec model chain on connect")

    def mqtt_topics(self) -> list[MqttTopic]:
        """What an MQTT device publishes: its preset's topics, its ``topics``, or ``topic`` + ``fields``."""
        if self.preset is not None:
            return mqtt_presets.expand(self.preset, self.topic or self.id, self.role)
        if self.topics:
            return [t.model_copy(update={"topic": t.topic.replace("{prefix}", self.topic or "")}) for t in self.topics]
        if self.topic and self.fields:
            return [MqttTopic(topic=self.topic, fields=self.fields)]
        return []

    def mqtt_relay(self) -> mqtt_presets.Relay | None:
        """The switchable output of an MQTT device whose preset has one (docs/commands.md)."""
        return mqtt_presets.relay(self.preset, self.topic or self.id) if self.protocol == "mqtt" else None


class SiteConfig(_Node):
    id: str = Field(pattern=SLUG)
    name: str = ""
    gateway: str
    devices: list[DeviceConfig] = Field(default_factory=list)


class DistrictConfig(_Node):
    id: str = Field(pattern=SLUG)
    name: str = ""
    sites: list[SiteConfig] = Field(default_factory=list)


class GatewayConfig(_Node):
    id: str = Field(pattern=SLUG)
    buffer_path: str | None = None
    publish_interval_s: float = Field(default=1.0, gt=0, le=3600)
    max_batch: int = Field(default=1000, ge=1, le=50_000)
    buffer_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    buffer_max_age_days: float = Field(default=30.0, gt=0)
    replay_rate_per_s: float = Field(default=20.0, gt=0)
    max_inflight: int = Field(default=100, ge=1, le=10_000)
    ack_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="re-send an envelope not acknowledged by then"
    )
    health_interval_s: float = Field(default=10.0, gt=0, le=3600)
    request_gap_s: float = Field(default=0.0, ge=0, le=10, description="pacing between requests on one connection")


class CityConfig(_Node):
    id: str = Field(pattern=SLUG)
    name: str = ""
    timezone: str = "Europe/Paris"
    # where the city is: planning models PV on a site without PV here (docs/planning.md)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PlatformConfig(_Node):
    city: CityConfig
    # folders of register profiles searched before the shipped ones (relative to the file)
    profiles_dirs: list[str] = Field(default_factory=list)
    services: ServiceSettings = Field(default_factory=ServiceSettings)
    gateways: list[GatewayConfig] = Field(default_factory=list)
    districts: list[DistrictConfig] = Field(default_factory=list)
    targets: list[ScopeTarget] = Field(default_factory=list)  # the road to 2050 (configuration.targets)
    alerts: AlertRules = Field(default_factory=AlertRules)  # alarm rules (configuration.alerts, docs/alerts.md)

    def sites(self) -> list[tuple[DistrictConfig, SiteConfig]]:
        return [(d, s) for d in self.districts for s in d.sites]

    def devices(self) -> list[tuple[DistrictConfig, SiteConfig, DeviceConfig]]:
        return [(d, s, dev) for d in self.districts for s in d.sites for dev in s.devices]

    def device(self, device_id: str) -> tuple[DistrictConfig, SiteConfig, DeviceConfig] | None:
        for d, s, dev in self.devices():
            if dev.id == device_id:
                return d, s, dev
        return None

    def gateway(self, gateway_id: str) -> GatewayConfig | None:
        return next((g for g in self.gateways if g.id == gateway_id), None)

    def devices_of_gateway(self, gateway_id: str) -> list[tuple[DistrictConfig, SiteConfig, DeviceConfig]]:
        return [(d, s, dev) for d, s, dev in self.devices() if s.gateway == gateway_id]
