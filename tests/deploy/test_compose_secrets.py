"""docker-compose.yml, statically: secrets that must be set and have no default, the .env example
and deploy/gen-env.sh, InfluxDB initialised from the environment, ports on loopback.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    GEN_ENV,
    MissingVariableError,
    interpolate,
    read_env_file,
    service_env,
    variables,
)

SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|KEYS")


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
