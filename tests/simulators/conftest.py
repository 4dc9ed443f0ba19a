"""Fixtures of the simulator tests: the default topology on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.ports import free_port
from ville_autonome.configuration.topology import PlatformConfig

ROOT = Path(__file__).resolve().parents[2]
AMIENS = ROOT / "config" / "amiens.yaml"

ConfigFactory = Callable[..., PlatformConfig]

# Simulated dates that date-sensitive tests run at besides today (UTC): the spring and autumn
# changes of Paris time, New Year in Paris (23:00Z the day before), a leap day late in the UTC
# evening (the next day in Paris), a date years past the scenario's start, and a time whose
# 16-bit heartbeat is near its wrap.
FIXED_DATES = (
    "2026-03-29T00:59:50Z",
    "2026-10-25T00:59:50Z",
    "2026-12-31T23:00:00Z",
    "2028-02-29T22:59:00Z",
    "2030-12-31T12:00:00Z",
    "2026-12-01T15:40:16Z",
)


def epoch_ms(iso: str) -> int:
    """Epoch milliseconds of an ISO 8601 UTC time (``…Z``)."""
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def amiens_document(*, sites: set[str] | None = None, mqtt_url: str | None = None) -> dict[str, Any]:
    """config/amiens.yaml as a dict, every Modbus device on a fresh free port, optionally a subset of sites."""
    doc: dict[str, Any] = yaml.safe_load(AMIENS.read_text(encoding="utf-8"))
    ports: dict[str, int] = {}
    for district in doc["districts"]:
        if sites is not None:
            district["sites"] = [s for s in district["sites"] if s["id"] in sites]
        for site in district["sites"]:
            for dev in site["devices"]:
                if dev.get("protocol", "modbus-tcp") == "modbus-tcp":
                    old = dev["address"]
                    ports.setdefault(old, free_port())
                    dev["address"] = f"127.0.0.1:{ports[old]}"
    doc["districts"] = [d for d in doc["districts"] if d["sites"]]
    # targets name scopes: keep those whose district or site is still in the subset
    scopes = {"city"} | {f"district:{d['id']}" for d in doc["districts"]}
    scopes |= {f"site:{s['id']}" for d in doc["districts"] for s in d["sites"]}
    doc["targets"] = [t for t in doc.get("targets", []) if t["scope"] in scopes]
    if mqtt_url is not None:
        doc["services"]["mqtt"]["url"] = mqtt_url
    return doc


@pytest.fixture
def make_config() -> ConfigFactory:
    def make(*, sites: set[str] | None = None, mqtt_url: str | None = None) -> PlatformConfig:
        return PlatformConfig.model_validate(amiens_document(sites=sites, mqtt_url=mqtt_url))

    return make
