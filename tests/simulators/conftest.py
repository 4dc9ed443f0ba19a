"""Fixtures of the simulator tests: the default topology on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from configuration.topology import PlatformConfig
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
AMIENS = ROOT / "config" / "amiens.yaml"

ConfigFactory = Callable[..., PlatformConfig]


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
    if mqtt_url is not None:
        doc["services"]["mqtt"]["url"] = mqtt_url
    return doc


@pytest.fixture
def make_config() -> ConfigFactory:
    def make(*, sites: set[str] | None = None, mqtt_url: str | None = None) -> PlatformConfig:
        return PlatformConfig.model_validate(amiens_document(sites=sites, mqtt_url=mqtt_url))

    return make
