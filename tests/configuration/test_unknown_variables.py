"""An unknown VA_* variable is a warning at start-up naming the nearest known one (a typo in a
deployment must not pass silently)."""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import run_command
from ville_autonome.configuration.loader import known_variables, unknown_variables


def test_every_setting_and_the_other_variables_are_known() -> None:
    known = known_variables()
    assert {"VA_MQTT_URL", "VA_MQTT_CERT_FILE", "VA_STORE_TOKEN", "VA_INGEST_STATUS_FILE", "VA_CONFIG"} <= known
    assert unknown_variables({"VA_MQTT_URL": "x", "PATH": "/bin", "VA_LOG_LEVEL": "INFO"}) == []


def test_a_typo_names_the_nearest_variable() -> None:
    (warning,) = unknown_variables({"VA_STORE_TOKN": "secret"})
    assert "VA_STORE_TOKN" in warning
    assert "did you mean VA_STORE_TOKEN?" in warning
    assert "secret" not in warning
    (far,) = unknown_variables({"VA_ZZZZZZZZZZZZZZZZZZ": "1"})
    assert "did you mean" not in far


def test_the_command_warns_at_start_up(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("city: {id: x}\n")
    done = run_command(["check-config", str(cfg)], cwd=tmp_path, env={"VA_MQTT_UR": "mqtt://h:1"})
    assert done.returncode == 0, done.stderr
    assert "VA_MQTT_UR is not a setting of the platform and is ignored; did you mean VA_MQTT_URL?" in done.stderr
