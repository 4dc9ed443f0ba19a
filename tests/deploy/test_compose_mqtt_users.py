"""docker-compose.yml and the Mosquitto ACL, statically: every MQTT user has a password, each gateway
reads its own field devices and only its own topics, one alarm evaluator publishes its topic, and
the exported Prometheus rules follow the deployed configuration.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt

from tests.deploy.compose import (
    ACL_FILE,
    MQTT_CLIENTS,
    ROOT,
    acl_blocks,
    argv_of,
    option,
    platform_services,
    service_env,
    variables,
)
from ville_autonome.configuration.topology import PlatformConfig

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


def test_a_reader_of_the_alarms_is_declared_with_its_own_password(
    services: dict[str, dict[str, Any]], generated_env: dict[str, str], deployed: PlatformConfig
) -> None:
    broker = service_env(services["mosquitto"], generated_env)
    users = dict(entry.split("=", 1) for entry in broker["MOSQUITTO_USERS"].split())
    assert broker[users["va-alarms-reader"]] == generated_env["MQTT_PASSWORD_ALARMS_READER"]
    rules = acl_blocks(ACL_FILE.read_text())["va-alarms-reader"]
    assert rules == [("read", f"{deployed.services.mqtt.topic_root}/v1/alarms")]
    readers = [user for user, block in acl_blocks(ACL_FILE.read_text()).items() if ("read", "va/v1/alarms") in block]
    assert readers == ["va-alarms-reader"]


def test_the_exported_prometheus_rules_follow_the_deployed_configuration(deployed: PlatformConfig) -> None:
    import yaml

    from ville_autonome.alerts.prometheus_rules import prometheus_rules

    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "ville-autonome-alerts.yml").read_text())
    assert shipped == prometheus_rules(deployed), (
        "regenerate: ville-autonome alerts -c deploy/config/amiens.yaml --export-prometheus "
        "deploy/prometheus/ville-autonome-alerts.yml"
    )
