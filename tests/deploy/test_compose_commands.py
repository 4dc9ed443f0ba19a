"""docker-compose.yml, statically: the deployed configuration has the topology of Amiens, every
platform service loads it, and every `ville-autonome` command line the stack runs parses with the
real argument parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import (
    MQTT_CLIENTS,
    ROOT,
    argv_of,
    platform_services,
    service_env,
)
from ville_autonome.commands.main import build_parser
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.topology import PlatformConfig

# ------------------------------------------------------------------ configuration and commands


def test_deployed_configuration_has_the_topology_of_amiens(amiens: PlatformConfig, deployed: PlatformConfig) -> None:
    def shape(cfg: PlatformConfig) -> list[tuple[str, ...]]:
        return [
            (d.id, s.id, s.gateway, v.id, v.role, str(v.source), v.protocol, str(v.profile), str(v.topic))
            for d, s, v in cfg.devices()
        ]

    assert shape(deployed) == shape(amiens), "deploy/config/amiens.yaml must follow config/amiens.yaml"
    assert [g.id for g in deployed.gateways] == [g.id for g in amiens.gateways]
    for _, _, device in deployed.devices():
        if device.protocol == "modbus-tcp":
            assert device.address.startswith("simulators:"), device.id


def test_every_platform_service_loads_the_deployed_configuration(
    services: dict[str, dict[str, Any]], generated_env: dict[str, str]
) -> None:
    for name, s in platform_services(services).items():
        env = service_env(s, generated_env)
        mounted = {str(v).split(":")[1]: str(v).split(":")[0] for v in s["volumes"]}
        config_dir = Path(env["VA_CONFIG"]).parent
        assert str(config_dir) in mounted, f"{name}: {config_dir} is not mounted"
        host_file = ROOT / mounted[str(config_dir)] / Path(env["VA_CONFIG"]).name
        cfg = load_config(host_file, environ=env)  # VA_* overrides validated like at start-up
        assert cfg.services.environment == "production", name
        if s["command"][0] in MQTT_CLIENTS:
            assert cfg.services.mqtt.password is not None, f"{name} connects to the broker without a password"
        if name in ("api", "ingest-1", "ingest-2", "rollups", "alerts"):
            assert cfg.services.store.backend == "influxdb"
            assert cfg.services.store.password is not None
        if name == "api":
            assert cfg.services.api.keys, "the API needs at least one key"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("ville-autonome has no subcommands")


def test_every_command_parses_with_the_real_parser(services: dict[str, dict[str, Any]]) -> None:
    parser = build_parser()
    for name, s in platform_services(services).items():
        argv = argv_of(s)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"{name}: `ville-autonome {' '.join(argv)}` does not parse (exit {exc.code})")
        assert callable(args.handler), name
        assert args.command == argv[0]
    assert {argv_of(s)[0] for s in platform_services(services).values()} <= set(_subcommands())


def test_api_health_check_calls_the_keyless_health_route(
    services: dict[str, dict[str, Any]], deployed: PlatformConfig
) -> None:
    from urllib.parse import urlsplit

    from ville_autonome.dashboard_api.main import create_app

    url = urlsplit(services["api"]["healthcheck"]["test"][3])
    assert url.port == deployed.services.api.port
    paths = create_app(deployed).openapi()["paths"]
    assert "get" in paths[url.path]
