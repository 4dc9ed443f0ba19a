"""docker-compose.yml, statically (no Docker engine here): the production topology, secrets that
must be set, state on volumes, health checks and restart policies, and every `ville-autonome`
command line the stack runs parsed by the real argument parser against the deployed configuration.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.deploy.compose import (
    ACL_FILE,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    GEN_ENV,
    ROOT,
    MissingVariableError,
    acl_blocks,
    interpolate,
    load_compose,
    load_healthcheck,
    read_env_file,
    service_env,
    variables,
)
from ville_autonome.commands.main import build_parser
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.topology import PlatformConfig

SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|KEYS")
STATE_PATHS = {
    "mosquitto": ["/mosquitto/data"],
    "influxdb": ["/var/lib/influxdb"],
    "grafana": ["/var/lib/grafana"],
}
GATEWAY_STATE = "/var/lib/ville-autonome/var"  # WORKDIR of the image + the buffer_path directory
MQTT_CLIENTS = ("simulate", "gateway", "ingest", "alerts")  # the subcommands that connect to the broker


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


@pytest.fixture(scope="module")
def amiens() -> PlatformConfig:
    return load_config(ROOT / "config" / "amiens.yaml", environ={})


@pytest.fixture(scope="module")
def deployed() -> PlatformConfig:
    return load_config(ROOT / "deploy" / "config" / "amiens.yaml", environ={})


@pytest.fixture(scope="module")
def generated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A .env written by deploy/gen-env.sh."""
    path = tmp_path_factory.mktemp("env") / ".env"
    done = subprocess.run(["sh", str(GEN_ENV), str(path)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return read_env_file(path)


def platform_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services running the platform's own image (Dockerfile)."""
    return {name: s for name, s in services.items() if s.get("build") == "."}


def argv_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list), "commands are exec-form lists (no shell in between)"
    return [str(a) for a in command]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


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


# ------------------------------------------------------------------ secrets


def _required(compose_text: str) -> dict[str, str]:
    return {name: arg for name, op, arg in variables(compose_text) if op == ":?"}


def test_every_secret_must_be_set_and_has_no_default(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        for key, value in (s.get("environment") or {}).items():
            if SECRET_NAME.search(key) and key not in ("MOSQUITTO_USERS",):
                refs = list(variables(str(value)))
                assert len(refs) == 1, f"{name}.{key} must be exactly one ${{VAR:?message}}"
                var, op, message = refs[0]
                assert op == ":?", f"{name}.{key}: a secret has no default (use ${{{var}:?...}})"
                assert message.strip(), f"{name}.{key}: say how to set {var}"


def test_compose_refuses_to_start_until_secrets_are_set(services: dict[str, dict[str, Any]]) -> None:
    guarded = [s for s in services.values() if any(op == ":?" for _, op, _ in variables(str(s.get("environment"))))]
    assert len(guarded) == len(services), "every service holds at least one secret"
    for s in guarded:
        with pytest.raises(MissingVariableError):
            service_env(s, {})


def test_env_example_documents_every_variable_without_values() -> None:
    text = COMPOSE_FILE.read_text()
    example = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    for var, _, _ in variables(text):
        assert var in documented, f"{var} is not in .env.example"
    example_values = read_env_file(ENV_EXAMPLE)
    for var in _required(text):
        assert example_values.get(var) == "", f".env.example must leave {var} empty (no default password)"


def test_gen_env_sets_every_required_variable(generated_env: dict[str, str]) -> None:
    missing = set(_required(COMPOSE_FILE.read_text())) - {k for k, v in generated_env.items() if v}
    assert not missing


def test_gen_env_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / ".env"
    existing.write_text("INFLUXDB_USER_PASSWORD=in-use\n")
    done = subprocess.run(["sh", str(GEN_ENV), str(existing)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0
    assert existing.read_text() == "INFLUXDB_USER_PASSWORD=in-use\n"


def test_influxdb_is_initialised_from_the_environment(
    services: dict[str, dict[str, Any]], generated_env: dict[str, str]
) -> None:
    raw = services["influxdb"]["environment"]
    assert raw["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    env = service_env(services["influxdb"], generated_env)
    users = {env["INFLUXDB_ADMIN_USER"], env["INFLUXDB_USER"], env["INFLUXDB_READ_USER"]}
    assert len(users) == 3, "the admin, the platform and Grafana: three users"
    for name in ("ingest-1", "ingest-2", "rollups", "api"):
        platform = service_env(services[name], generated_env)
        assert platform["VA_STORE_URL"] == "http://influxdb:8086"
        assert platform["VA_STORE_DATABASE"] == env["INFLUXDB_DB"]
        assert platform["VA_STORE_USERNAME"] == env["INFLUXDB_USER"]  # all privileges on the database, not admin
        assert platform["VA_STORE_PASSWORD"] == env["INFLUXDB_USER_PASSWORD"]
    grafana = service_env(services["grafana"], generated_env)
    assert grafana["VA_INFLUXDB_DATABASE"] == env["INFLUXDB_DB"]
    assert grafana["VA_INFLUXDB_USER"] == env["INFLUXDB_READ_USER"]  # read-only
    assert grafana["VA_INFLUXDB_PASSWORD"] == env["INFLUXDB_READ_USER_PASSWORD"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_published_ports_bind_to_loopback_by_default(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        for port in s.get("ports", []):
            published = interpolate(str(port), {})
            assert published.startswith("127.0.0.1:"), f"{name} publishes {published} beyond this host"


# ------------------------------------------------------------------ MQTT users


def test_every_mqtt_user_has_a_broker_password(
    services: dict[str, dict[str, Any]], generated_env: dict[str, str]
) -> None:
    broker = service_env(services["mosquitto"], generated_env)
    users = dict(entry.split("=", 1) for entry in broker["MOSQUITTO_USERS"].split())
    clients = {n: s for n, s in platform_services(services).items() if s["command"][0] in MQTT_CLIENTS}
    assert set(clients) == set(platform_services(services)) - {"api", "rollups"}  # these two use the store only
    for name, s in clients.items():
        raw = s["environment"]
        user = raw["VA_MQTT_USERNAME"]
        assert user in users, f"{name} connects as {user!r}, unknown to the broker"
        # the service and the broker read the same secret
        (var, _, _), *_ = variables(raw["VA_MQTT_PASSWORD"])
        assert users[user] == var, name
        assert broker[var] == generated_env[var]
        if s["command"][0] == "gateway":
            assert user == option(argv_of(s), "--id"), "a gateway's MQTT user is its id (the ACL relies on it)"


def test_acl_lets_each_gateway_read_its_mqtt_field_devices(deployed: PlatformConfig) -> None:
    blocks = acl_blocks(ACL_FILE.read_text())
    for _, site, device in deployed.devices():
        if device.protocol != "mqtt":
            continue
        assert device.mqtt_topics()
        reads = [t for a, t in blocks.get(site.gateway, []) if a in ("read", "readwrite")]
        writes = [t for a, t in blocks.get("va-simulators", []) if a in ("write", "readwrite")]
        for topic in (t.topic for t in device.mqtt_topics()):
            assert any(mqtt.topic_matches_sub(t, topic) for t in reads), (site.gateway, topic)
            assert any(mqtt.topic_matches_sub(t, topic) for t in writes), topic
        relay = device.mqtt_relay()
        if relay is not None:  # commands to its output (docs/commands.md): the gateway writes, the device answers
            gw_writes = [t for a, t in blocks.get(site.gateway, []) if a in ("write", "readwrite")]
            sim_reads = [t for a, t in blocks.get("va-simulators", []) if a in ("read", "readwrite")]
            assert any(mqtt.topic_matches_sub(t, relay.command_topic) for t in gw_writes), relay.command_topic
            assert any(mqtt.topic_matches_sub(t, relay.command_topic) for t in sim_reads), relay.command_topic
            assert any(mqtt.topic_matches_sub(t, relay.state_topic) for t in reads), relay.state_topic
            assert any(mqtt.topic_matches_sub(t, relay.state_topic) for t in writes), relay.state_topic


def test_acl_confines_gateways_to_their_own_id_and_follows_the_topic_root(deployed: PlatformConfig) -> None:
    patterns = acl_blocks(ACL_FILE.read_text())[None]
    root = deployed.services.mqtt.topic_root
    assert sorted(patterns) == sorted(
        [
            ("write", f"{root}/v1/uplink/%u"),
            ("write", f"{root}/v1/health/%u"),
            ("write", f"{root}/v1/status/%u"),
            ("read", f"{root}/v1/ack/%u"),
            ("read", f"{root}/v1/command/%u"),
            ("write", f"{root}/v1/command-result/%u"),
        ]
    )


def test_one_alarm_evaluator_publishing_only_its_topic(
    services: dict[str, dict[str, Any]], deployed: PlatformConfig
) -> None:
    evaluators = [name for name, s in platform_services(services).items() if argv_of(s)[0] == "alerts"]
    assert evaluators == ["alerts"], "one evaluator (a second would stand by: docs/alerts.md)"
    s = services["alerts"]
    assert s["healthcheck"]["test"][2:] == ["status", s["environment"]["VA_ALERTS_STATUS_FILE"]]
    rules = acl_blocks(ACL_FILE.read_text())[s["environment"]["VA_MQTT_USERNAME"]]
    assert rules == [("write", f"{deployed.services.mqtt.topic_root}/v1/alarms")]
    assert deployed.alerts.rules, "the deployment ships the Amiens alarm rules"


def test_the_exported_prometheus_rules_follow_the_deployed_configuration(deployed: PlatformConfig) -> None:
    import yaml

    from ville_autonome.alerts.prometheus_rules import prometheus_rules

    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "ville-autonome-alerts.yml").read_text())
    assert shipped == prometheus_rules(deployed), (
        "regenerate: ville-autonome alerts -c deploy/config/amiens.yaml --export-prometheus "
        "deploy/prometheus/ville-autonome-alerts.yml"
    )


# ------------------------------------------------------------------ state


def test_every_piece_of_state_is_on_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["volumes"])
    used: list[str] = []
    for name, s in services.items():
        mounts = {}
        for v in s.get("volumes", []):
            source, target = str(v).split(":")[:2]
            mounts[target] = source
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
                used.append(source)
        for path in STATE_PATHS.get(name, []):
            assert path in mounts, f"{name}: {path} holds state and needs a volume"
            assert not mounts[path].startswith((".", "/")), f"{name}: {path} on a named volume"
        if s.get("command", [None])[0] == "gateway":
            assert GATEWAY_STATE in mounts, f"{name}: the gateway's disk buffer needs a volume"
    assert sorted(used) == sorted(declared), "each declared volume is used by exactly one service"


def test_gateway_buffers_land_on_their_volume(deployed: PlatformConfig) -> None:
    for g in deployed.gateways:
        assert g.buffer_path is not None
        assert g.buffer_path.startswith("var/"), f"{g.id}: buffer_path must sit under var/ (the volume)"


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
