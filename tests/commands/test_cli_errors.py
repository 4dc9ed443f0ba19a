"""Expected failures at start-up: one clear line naming what and where, exit status 2, no traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.skeleton import write_config
from tests.support.ports import free_port
from tests.support.processes import run_command

REPO = Path(__file__).resolve().parents[2]


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert any(fragment in line for line in errors), (fragment, result.stderr)


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def config(tmp_path: Path, **kw) -> Path:  # type: ignore[no-untyped-def]
    defaults = {
        "mqtt_url": f"mqtt://127.0.0.1:{free_port()}",
        "topic_root": "cli",
        "store": {"backend": "sqlite", "path": str(tmp_path / "s.sqlite")},
    }
    defaults.update(kw)
    return write_config(tmp_path / "c.yaml", **defaults)


def test_check_config_says_ok_for_the_shipped_configuration(tmp_path: Path) -> None:
    result = run_command(["check-config", str(REPO / "config" / "amiens.yaml")], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_check_config_names_file_line_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(config(tmp_path).read_text().replace("role: grid", "role: prod"))
    result = run_command(["check-config", str(bad)], cwd=tmp_path)
    assert_one_line_error(
        result, f"{bad}:", "devices[0].role: 'prod' is not one of production, consumption, storage, grid"
    )


@pytest.mark.parametrize("command", [["ingest"], ["gateway", "--id", "gw-a"], ["api"], ["simulate"]])
def test_every_service_refuses_a_bad_configuration(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(config(tmp_path).read_text().replace("unit_id: 1", "unit_id: 999"))
    result = run_command([*command, "-c", str(bad)], cwd=tmp_path)
    assert_one_line_error(result, "devices[0].unit_id")


def test_ingest_with_no_broker_says_so(tmp_path: Path) -> None:
    port = free_port()
    result = run_command(["ingest", "-c", str(config(tmp_path, mqtt_url=f"mqtt://127.0.0.1:{port}"))], cwd=tmp_path)
    assert_one_line_error(result, f"127.0.0.1:{port}")


def test_api_with_no_database_says_so(tmp_path: Path) -> None:
    port = free_port()
    store = {"backend": "influxdb", "url": f"http://127.0.0.1:{port}", "database": "x", "timeout_s": "2"}
    result = run_command(["api", "-c", str(config(tmp_path, store=store))], cwd=tmp_path)
    assert_one_line_error(result, f"127.0.0.1:{port}")


def test_api_on_a_taken_port_says_so(tmp_path: Path, listening_port: int) -> None:
    result = run_command(["api", "-c", str(config(tmp_path, api_port=listening_port))], cwd=tmp_path)
    assert_one_line_error(result, str(listening_port))


def test_simulator_on_a_taken_port_says_so(tmp_path: Path, listening_port: int) -> None:
    result = run_command(["simulate", "-c", str(config(tmp_path, meter_port=listening_port))], cwd=tmp_path)
    assert_one_line_error(result, str(listening_port))


def test_api_in_production_without_keys_says_so(tmp_path: Path) -> None:
    text = config(tmp_path).read_text()
    keyless = text.split("    keys:\n")[0] + "gateways:" + text.split("\ngateways:", 1)[1]
    path = tmp_path / "keyless.yaml"
    path.write_text(keyless)
    result = run_command(["api", "-c", str(path)], cwd=tmp_path, env={"VA_ENVIRONMENT": "production"})
    assert_one_line_error(result, "services.api.keys: production needs at least one API key")


def test_several_gateways_need_a_status_file_each(tmp_path: Path) -> None:
    env = {"VA_GATEWAY_STATUS_FILE": str(tmp_path / "gw.status")}
    result = run_command(["gateway", "-c", str(REPO / "config" / "amiens.yaml"), "--all"], cwd=tmp_path, env=env)
    assert_one_line_error(result, "services.gateway.status_file", "put {gateway} in it")
    assert not (tmp_path / "gw.status").exists()
