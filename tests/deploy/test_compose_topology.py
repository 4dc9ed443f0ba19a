"""docker-compose.yml, statically (no Docker engine here): the production topology, one rollup
compiler, one gateway per district, shared ingest subscriptions, pinned images, restart policies and
health checks, and the Dockerfile.
"""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.compose import (
    ROOT,
    argv_of,
    load_healthcheck,
    option,
    platform_services,
)
from ville_autonome.configuration.topology import PlatformConfig

# ------------------------------------------------------------------ topology


def test_services_of_the_production_topology(services: dict[str, dict[str, Any]], amiens: PlatformConfig) -> None:
    gateways = {f"gateway-{g.id.removeprefix('gw-')}" for g in amiens.gateways}
    expected = {
        "mosquitto",
        "influxdb",
        "simulators",
        "ingest-1",
        "ingest-2",
        "rollups",
        "api",
        "alerts",
        "grafana",
        *gateways,
    }
    assert set(services) == expected


def test_one_rollup_compiler(services: dict[str, dict[str, Any]]) -> None:
    compilers = [name for name, s in services.items() if s.get("command", [None])[0] == "rollups"]
    assert compilers == ["rollups"], "one rollup compiler: the one writer of rollups (docs/storage.md)"
    assert "--once" not in argv_of(services["rollups"])


def test_one_gateway_per_district(services: dict[str, dict[str, Any]], amiens: PlatformConfig) -> None:
    run = [option(argv_of(s), "--id") for s in services.values() if s.get("command", [None])[0] == "gateway"]
    assert sorted(run) == sorted(g.id for g in amiens.gateways), "every gateway runs, once"
    for district in amiens.districts:
        assert {site.gateway for site in district.sites} & set(run), f"district {district.id} has no gateway"


def test_two_ingest_workers_share_one_subscription(services: dict[str, dict[str, Any]]) -> None:
    workers = {name: s for name, s in services.items() if s.get("command", [None])[0] == "ingest"}
    assert len(workers) == 2
    groups = {option(argv_of(s), "--shared-group") for s in workers.values()}
    assert len(groups) == 1, "both workers must join the same $share group"
    client_ids = {s["environment"]["VA_INGEST_CLIENT_ID"] for s in workers.values()}
    assert len(client_ids) == 2, "two workers with one client id would throw each other off the broker"


def test_images_are_pinned_and_influxdb_is_the_tested_major_1x(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        image = str(s.get("image", ""))
        assert image, f"{name} has no image"
        assert not image.endswith(":latest"), name
        assert ":" in image, f"{name}: pin the image's version"
    # CI runs influxd 1.6; the store contract suite runs by URL against any other (docs/storage.md)
    assert re.fullmatch(r"influxdb:1\.\d+\.\d+", services["influxdb"]["image"])
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2.")
    assert services["grafana"]["image"].startswith("grafana/grafana")


def test_every_service_restarts_and_has_a_health_check(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        assert s.get("restart") in ("always", "unless-stopped"), name
        test = s.get("healthcheck", {}).get("test")
        assert isinstance(test, list), f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert not s["healthcheck"].get("disable"), name


def test_platform_health_checks_parse_with_va_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    parser = load_healthcheck().build_parser()
    for name, s in platform_services(services).items():
        test = s["healthcheck"]["test"]
        assert test[:2] == ["CMD", "va-healthcheck"], name
        parser.parse_args(test[2:])


def test_simulators_health_check_watches_deployed_modbus_ports(
    services: dict[str, dict[str, Any]], deployed: PlatformConfig
) -> None:
    test = services["simulators"]["healthcheck"]["test"]
    assert test[2] == "listening"
    modbus_ports = {int(d.address.rpartition(":")[2]) for _, _, d in deployed.devices() if d.protocol == "modbus-tcp"}
    assert set(map(int, test[3:])) <= modbus_ports


def test_dockerfile_builds_the_package_and_runs_ville_autonome() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    # the locked versions of the core and every feature (PDF/XLSX reports, planning: the scheduled reports run there)
    assert re.search(r"pip install -r /tmp/full.lock", text), "the image installs the locked versions"
    assert re.search(r"pip install --no-deps /src", text)
    assert 'ENTRYPOINT ["ville-autonome"]' in text
    assert "/usr/local/bin/va-healthcheck" in text
    assert re.search(r"^USER (?!root)\w+", text, re.M), "the services do not run as root"
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for private in (".env", ".venv", ".git", "var"):
        assert private in ignored
    # what the build needs stays in the context: the package metadata, the default configuration,
    # the health check script
    for needed in ("pyproject.toml", "README.md", "config", "deploy", "requirements", *_packages()):
        assert needed not in ignored, needed


def _packages() -> list[str]:
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    folders: list[str] = list(meta["tool"]["setuptools"]["package-dir"].values())
    return folders
