"""Configuration validation: every refusal names the file, the line, the path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config_text import load_text, problems_of
from ville_autonome.configuration import ConfigError, load_config
from ville_autonome.configuration.topology import PlatformConfig

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
city:
  id: testville
gateways:
  - id: gw-a
districts:
  - id: north
    sites:
      - id: site-a
        gateway: gw-a
        devices:
          - id: meter-a
            role: grid
            protocol: modbus-tcp
            address: 127.0.0.1:15020
            profile: sunspec-meter-203
          - id: pv-a
            role: production
            source: pv
            protocol: mqtt
            topic: shellies/pv-a/status
"""


def _profile_check(name: str, dirs: object) -> list[str]:
    return [] if name == "sunspec-meter-203" else [f"unknown register profile {name!r}"]


def load(text: str, **env: str) -> PlatformConfig:
    return load_text(text, env, profile_check=_profile_check)


def problems(text: str, **env: str) -> list[str]:
    return problems_of(text, env, profile_check=_profile_check)


def test_the_shipped_configuration_is_valid() -> None:
    cfg = load_config(REPO / "config" / "amiens.yaml", environ={})
    assert {d.id for d in cfg.districts} >= {"hopital-nord", "citadelle", "saint-leu", "gare-la-vallee"}


def test_a_minimal_configuration_loads_with_defaults() -> None:
    cfg = load(MINIMAL)
    assert cfg.services.mqtt.url == "mqtt://127.0.0.1:1883"
    assert cfg.device("pv-a") is not None
    assert [dev.id for _, _, dev in cfg.devices_of_gateway("gw-a")] == ["meter-a", "pv-a"]


def test_an_unknown_role_names_file_line_path_and_choices() -> None:
    text = MINIMAL.replace("role: grid", "role: prod")
    assert problems(text) == [
        "test.yaml:12: districts[0].sites[0].devices[0].role: 'prod' is not one of production, consumption, storage, grid"
    ]


def test_a_missing_field_is_named() -> None:
    text = MINIMAL.replace("        gateway: gw-a\n", "")
    assert problems(text) == ["test.yaml:8: districts[0].sites[0].gateway: required field is missing"]


def test_an_unknown_field_is_refused() -> None:
    text = MINIMAL.replace("            topic: shellies/pv-a/status", "            topic: x\n            colour: red")
    assert problems(text) == [
        "test.yaml:21: districts[0].sites[0].devices[1].colour: unknown field (not part of the configuration schema)"
    ]


def test_a_bad_identifier_is_refused() -> None:
    out = problems(MINIMAL.replace("id: meter-a", "id: Meter A"))
    assert out == [
        "test.yaml:11: districts[0].sites[0].devices[0].id: 'Meter A' is not a valid identifier "
        "(lower-case letters, digits, '-' and '_', at most 64)"
    ]


def test_yaml_syntax_errors_give_the_line() -> None:
    out = problems("city:\n  id: [unclosed\n")
    assert len(out) == 1
    assert out[0].startswith("test.yaml:3: YAML syntax error")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert problems("- a\n- b\n") == ["test.yaml:1: the document must be a mapping with 'city', 'districts', ..."]


def test_cross_references_are_checked() -> None:
    text = MINIMAL.replace("        gateway: gw-a", "        gateway: gw-b").replace("source: pv", "source: pv\n")
    text = text.replace("            profile: sunspec-meter-203", "            profile: nope")
    assert problems(text) == [
        "test.yaml:9: districts[0].sites[0].gateway: unknown gateway 'gw-b' (known: gw-a)",
        "test.yaml:15: districts[0].sites[0].devices[0].profile: unknown register profile 'nope'",
    ]


def test_production_needs_a_source_and_others_have_none() -> None:
    text = MINIMAL.replace("            source: pv\n", "").replace(
        "role: grid", "role: grid\n            source: hydro"
    )
    assert problems(text) == [
        "test.yaml:13: districts[0].sites[0].devices[0].source: only production devices have a source, not grid",
        "test.yaml:17: districts[0].sites[0].devices[1].source: a production device needs a source (hydro, pv, wind, chp)",
    ]


def test_duplicate_ids_and_endpoints_are_refused() -> None:
    text = MINIMAL.replace("id: pv-a", "id: meter-a")
    assert problems(text) == [
        "test.yaml:16: districts[0].sites[0].devices[1].id: duplicate id 'meter-a' (already a device)"
    ]
    dup = MINIMAL.replace(
        "          - id: pv-a",
        "          - id: load-a\n            role: consumption\n            address: 127.0.0.1:15020\n"
        "            profile: sunspec-meter-203\n          - id: pv-a",
    )
    assert problems(dup) == [
        "test.yaml:16: districts[0].sites[0].devices[1].unit_id: 127.0.0.1:15020 unit 1 is already 'meter-a'"
    ]
    two_grids = MINIMAL.replace("role: production\n            source: pv", "role: grid")
    assert problems(two_grids) == [
        "test.yaml:17: districts[0].sites[0].devices[1].role: site 'site-a' has more than one grid connection point"
    ]


def test_protocol_specific_fields_are_required() -> None:
    text = MINIMAL.replace("            address: 127.0.0.1:15020\n", "").replace(
        "            topic: shellies/pv-a/status\n", ""
    )
    assert problems(text) == [
        "test.yaml:11: districts[0].sites[0].devices[0].address: a modbus-tcp device needs an address",
        "test.yaml:15: districts[0].sites[0].devices[1].topic: an mqtt device needs a topic",
    ]


def test_environment_overrides_apply_and_are_named_in_errors() -> None:
    cfg = load(MINIMAL, VA_MQTT_URL="mqtt://10.1.2.3:1884", VA_API_PORT="9000", VA_STORE_BACKEND="influxdb")
    assert (cfg.services.mqtt.host, cfg.services.mqtt.port) == ("10.1.2.3", 1884)
    assert cfg.services.api.port == 9000
    assert cfg.services.store.backend == "influxdb"
    assert problems(MINIMAL, VA_API_PORT="abc") == [
        "environment variable VA_API_PORT: services.api.port: Input should be a valid integer, "
        "unable to parse string as an integer (got 'abc')"
    ]
    assert problems(MINIMAL, VA_MQTT_URL="http://x") == [
        "environment variable VA_MQTT_URL: services.mqtt.url: must look like mqtt://HOST:PORT or mqtts://HOST:PORT "
        "(got 'http://x')"
    ]


def test_secrets_are_never_echoed() -> None:
    text = MINIMAL + "services:\n  store:\n    token: [s3cr3t-token]\n"
    out = problems(text)
    assert len(out) == 1
    assert "services.store.token" in out[0]
    assert "s3cr3t" not in out[0]
    out_env = problems(MINIMAL, VA_STORE_PASSWORD="hunter2", VA_STORE_TIMEOUT_S="-1")
    assert all("hunter2" not in line for line in out_env)


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such configuration file"


def test_production_refuses_placeholder_secrets() -> None:
    out = problems(MINIMAL, VA_ENVIRONMENT="production", VA_MQTT_PASSWORD="change-me", VA_STORE_TOKEN="s3cret-real")
    assert out == [
        "environment variable VA_MQTT_PASSWORD: services.mqtt.password: "
        "a placeholder secret is refused in production: set a real one"
    ]
    assert all("change-me" not in line for line in out)
    digest = "0" * 64
    keyed = MINIMAL + f"services:\n  api:\n    keys:\n      - {{name: ops, role: admin, sha256: '{digest}'}}\n"
    cfg = load(keyed, VA_ENVIRONMENT="production", VA_MQTT_PASSWORD="a-long-random-secret")
    assert cfg.services.environment == "production"


def test_the_mqtt_protocol_may_be_written_as_a_number() -> None:
    assert load(MINIMAL, VA_MQTT_PROTOCOL="5").services.mqtt.protocol == "5"
    assert load(MINIMAL, VA_MQTT_PROTOCOL="3.1.1").services.mqtt.protocol == "3.1.1"
