"""The production broker's security with the real Mosquitto: passwords from the entrypoint,
the ACL of deploy/mosquitto/acl, anonymous clients refused, gateways confined to their own id."""

from __future__ import annotations

import queue
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from pydantic import SecretStr

from tests.deploy.broker import MOSQUITTO_DIR, PROD_CONF, ProdMosquitto, run_entrypoint
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink import BrokerUnreachableError, connect_blocking, make_client

USERS = {
    "gw-saint-leu": ("MQTT_PASSWORD_GW_SAINT_LEU", "s3cret-saint-leu"),
    "gw-citadelle": ("MQTT_PASSWORD_GW_CITADELLE", "s3cret/citadelle"),
    "va-ingest-1": ("MQTT_PASSWORD_INGEST_1", "s3cret-ingest-1"),
    "va-alerts": ("MQTT_PASSWORD_ALERTS", "s3cret-alerts"),
    "va-alarms-reader": ("MQTT_PASSWORD_ALARMS_READER", "s3cret-alarms-reader"),
}
NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87
NO_SUBSCRIBERS = 16  # MQTT 5 reason code 0x10: accepted, no matching subscription


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ProdMosquitto]:
    run_dir = tmp_path / "run"
    done = run_entrypoint(run_dir, USERS)
    assert done.returncode == 0, done.stderr
    b = ProdMosquitto(tmp_path / "broker", run_dir)
    b.start()
    yield b
    b.kill()


@dataclass
class Peer:
    """One authenticated MQTT 5 client and what it received."""

    client: mqtt.Client
    received: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    acks: dict[int, int] = field(default_factory=dict)  # mid -> reason code (SUBACK / PUBACK)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, topic: str) -> int:
        _, mid = self.client.subscribe(topic, qos=1)
        assert mid is not None
        return self._reason(mid, f"SUBACK for {topic}")

    def publish(self, topic: str, payload: bytes) -> int:
        info = self.client.publish(topic, payload, qos=1)
        return self._reason(info.mid, f"PUBACK for {topic}")

    def _reason(self, mid: int, what: str) -> int:
        def acked() -> bool:
            with self.lock:
                return mid in self.acks

        wait_for(acked, what=what)
        with self.lock:
            return self.acks[mid]

    def drain(self, into: list[tuple[str, bytes]]) -> bool:
        """Move what arrived into ``into``; true once it holds anything."""
        into.extend(self.messages())
        return bool(into)

    def messages(self) -> list[tuple[str, bytes]]:
        out = []
        while not self.received.empty():
            out.append(self.received.get_nowait())
        return out


def _close(client: mqtt.Client) -> None:
    """Disconnect, and break the client ↔ callback cycles so that paho's own finaliser closes its
    wake-up socket pair at once (in a cycle, the garbage collector may reach the sockets first)."""
    client.disconnect()
    client.loop_stop()
    client.on_message = None
    client.on_subscribe = None
    client.on_publish = None


def _settings(broker: ProdMosquitto, user: str | None, password: str | None) -> MqttSettings:
    return MqttSettings(url=broker.url, username=user, password=SecretStr(password) if password else None)


@pytest.fixture
def connect(broker: ProdMosquitto) -> Iterator[Any]:
    made: list[mqtt.Client] = []

    def make(user: str, password: str | None = None) -> Peer:
        secret = password if password is not None else USERS[user][1]
        client = make_client(_settings(broker, user, secret), f"{user}-{uuid.uuid4().hex[:6]}")
        peer = Peer(client)

        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            peer.received.put((msg.topic, bytes(msg.payload)))

        def on_subscribe(c: mqtt.Client, userdata: Any, mid: int, reasons: list[Any], props: Any) -> None:
            with peer.lock:
                peer.acks[mid] = int(reasons[0].value)

        def on_publish(c: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
            with peer.lock:
                peer.acks[mid] = int(reason.value)

        client.on_message = on_message
        client.on_subscribe = on_subscribe
        client.on_publish = on_publish
        made.append(client)
        connect_blocking(client, _settings(broker, user, secret))
        return peer

    yield make
    for c in made:
        _close(c)


@dataclass
class Victim:
    """A client holding a session under its own id, with a last will; records any disconnection."""

    client: mqtt.Client
    disconnects: list[Any] = field(default_factory=list)


def _victim(broker: ProdMosquitto, user: str, client_id: str, will_topic: str) -> Victim:
    settings = _settings(broker, user, USERS[user][1])
    client = make_client(settings, client_id)
    client.will_set(will_topic, b"offline", qos=1, retain=True)
    victim = Victim(client)
    client.on_disconnect = lambda c, u, flags, reason, props: victim.disconnects.append(reason)
    connect_blocking(client, settings)
    return victim


@pytest.mark.parametrize(
    ("victim_user", "victim_id"),
    [("gw-saint-leu", "va-gateway-gw-saint-leu"), ("va-ingest-1", "va-ingest-1")],
)
def test_a_client_id_cannot_be_taken_over_with_another_users_credentials(
    broker: ProdMosquitto, connect: Any, victim_user: str, victim_id: str
) -> None:
    """gw-citadelle's credentials with the victim's client id: without use_username_as_clientid the
    broker disconnects the victim and fires its last will ("offline": every device of a gateway
    marked offline); with it, the intruder only gets a session named after its own user."""
    observer = connect("va-ingest-1") if victim_user != "va-ingest-1" else connect("gw-saint-leu")
    watch = "va/v1/status/+" if victim_user != "va-ingest-1" else "va/v1/ack/gw-saint-leu"
    assert observer.subscribe(watch) == 1
    will_topic = "va/v1/status/gw-saint-leu" if victim_user == "gw-saint-leu" else "va/v1/deadletter/gw-saint-leu"
    victim = _victim(broker, victim_user, victim_id, will_topic)
    try:
        intruder_settings = _settings(broker, "gw-citadelle", USERS["gw-citadelle"][1])
        intruder = make_client(intruder_settings, victim_id)
        connect_blocking(intruder, intruder_settings)  # CONNACK: a takeover would have happened by now
        try:
            # a round trip of the victim after the intruder's CONNACK: it is still connected...
            probe_topic = "va/v1/status/gw-saint-leu" if victim_user == "gw-saint-leu" else "va/v1/ack/gw-saint-leu"
            info = victim.client.publish(probe_topic, b"still-here", qos=1)
            info.wait_for_publish(timeout=10)
            assert info.is_published()
            got: list[tuple[str, bytes]] = []
            wait_for(lambda: observer.drain(got) and any(p == b"still-here" for _, p in got), what="the victim's probe")
            # ... was never disconnected, and its last will never fired (it would arrive before the probe)
            assert victim.disconnects == []
            assert all(p != b"offline" for _, p in got), got
        finally:
            _close(intruder)
    finally:
        _close(victim.client)


def _refused(broker: ProdMosquitto, user: str | None, password: str | None) -> str:
    settings = _settings(broker, user, password)
    client = make_client(settings, "intruder")
    with pytest.raises(BrokerUnreachableError) as info:
        connect_blocking(client, settings)
    client.loop_stop()
    return str(info.value)


def test_anonymous_and_wrong_passwords_are_refused(broker: ProdMosquitto) -> None:
    assert "refused" in _refused(broker, None, None)
    assert "refused" in _refused(broker, "gw-saint-leu", "not-the-password")
    assert "refused" in _refused(broker, "gw-saint-leu", USERS["gw-citadelle"][1])
    assert "refused" in _refused(broker, "nobody", "s3cret-saint-leu")


def test_gateway_publishes_under_its_own_id_only(connect: Any) -> None:
    ingest = connect("va-ingest-1")
    assert ingest.subscribe("$share/ingest/va/v1/uplink/+") == 1
    assert ingest.subscribe("va/v1/status/+") == 1
    gateway = connect("gw-saint-leu")

    assert gateway.publish("va/v1/uplink/gw-citadelle", b"forged") == NOT_AUTHORIZED
    assert gateway.publish("va/v1/ack/gw-saint-leu", b"self-ack") == NOT_AUTHORIZED
    assert gateway.publish("va/v1/status/gw-saint-leu", b"online") == 0
    assert gateway.publish("va/v1/uplink/gw-saint-leu", b"batch-1") == 0

    # both allowed messages arrive, in order, after the refused ones: the refused ones never will
    got: list[tuple[str, bytes]] = []
    wait_for(lambda: ingest.drain(got) and len(got) >= 2, what="allowed messages at the ingest")
    assert sorted(got) == [("va/v1/status/gw-saint-leu", b"online"), ("va/v1/uplink/gw-saint-leu", b"batch-1")]


def test_gateway_reads_only_its_own_acknowledgements(connect: Any) -> None:
    # Mosquitto grants every SUBSCRIBE and enforces "read" at delivery, on each message's topic
    spy = connect("gw-saint-leu")
    assert spy.subscribe("va/v1/#") == 1
    other = connect("gw-citadelle")
    assert other.publish("va/v1/uplink/gw-citadelle", b"their batch") == 0
    assert other.publish("va/v1/health/gw-citadelle", b"their health") == 0

    ingest = connect("va-ingest-1")
    assert ingest.publish("va/v1/ack/gw-citadelle", b"their ack") == 0
    assert ingest.publish("va/v1/deadletter/gw-saint-leu", b"rejected") == 0
    # the ingest cannot forge a gateway's uplink
    assert ingest.publish("va/v1/uplink/gw-saint-leu", b"forged") == NOT_AUTHORIZED
    assert ingest.publish("va/v1/ack/gw-saint-leu", b"ack-1") == 0

    # each message above was routed before its PUBACK; the gateway's own ack comes last of all
    got: list[tuple[str, bytes]] = []
    wait_for(lambda: spy.drain(got), what="the gateway's own ack")
    assert got == [("va/v1/ack/gw-saint-leu", b"ack-1")]


def test_the_alarm_evaluator_publishes_its_topic_only(connect: Any) -> None:
    alerts = connect("va-alerts")
    assert alerts.publish("va/v1/alarms", b'{"schema": 1}') in (0, NO_SUBSCRIBERS)  # allowed (nobody listens here)
    assert alerts.publish("va/v1/uplink/gw-saint-leu", b"forged") == NOT_AUTHORIZED
    assert alerts.publish("va/v1/command/gw-saint-leu", b"forged") == NOT_AUTHORIZED
    assert alerts.publish("va/v1/ack/gw-saint-leu", b"forged") == NOT_AUTHORIZED


def test_the_alarm_reader_receives_the_alarms_and_nothing_else(connect: Any) -> None:
    reader = connect("va-alarms-reader")
    assert reader.subscribe("va/v1/#") == 1
    spy = connect("gw-saint-leu")  # a gateway does not receive the alarms
    assert spy.subscribe("va/v1/#") == 1
    assert connect("gw-citadelle").publish("va/v1/uplink/gw-citadelle", b"their batch") == 0
    assert reader.publish("va/v1/alarms", b"forged alarm") == NOT_AUTHORIZED
    assert reader.publish("va/v1/command/gw-saint-leu", b"forged") == NOT_AUTHORIZED
    assert connect("va-alerts").publish("va/v1/alarms", b'{"schema": 1}') == 0
    assert connect("va-ingest-1").publish("va/v1/ack/gw-saint-leu", b"ack-1") == 0

    # each message was routed before its PUBACK, in this order; the last one each peer may read ends its wait
    got: list[tuple[str, bytes]] = []
    wait_for(lambda: reader.drain(got), what="the alarm at its reader")
    assert got == [("va/v1/alarms", b'{"schema": 1}')]
    seen: list[tuple[str, bytes]] = []
    wait_for(lambda: spy.drain(seen), what="the gateway's own ack")
    assert seen == [("va/v1/ack/gw-saint-leu", b"ack-1")]


def test_health_check_user_has_a_fresh_private_password(broker: ProdMosquitto, connect: Any) -> None:
    secret_file = broker.run_dir / "healthcheck.secret"
    assert secret_file.stat().st_mode & 0o077 == 0
    assert (broker.run_dir / "passwd").stat().st_mode & 0o077 == 0
    probe = connect("va-healthcheck", secret_file.read_text().strip())
    assert probe.subscribe("$SYS/broker/uptime") == 1
    wait_for(probe.messages, what="$SYS/broker/uptime")


def test_password_file_holds_hashes_never_the_secrets(broker: ProdMosquitto) -> None:
    text = (broker.run_dir / "passwd").read_text()
    users = [line.split(":", 1)[0] for line in text.splitlines()]
    assert users == [*USERS, "va-healthcheck"]
    for _, password in USERS.values():
        assert password not in text


def test_entrypoint_refuses_a_missing_secret_and_names_it(tmp_path: Path) -> None:
    users = {"gw-saint-leu": ("MQTT_PASSWORD_GW_SAINT_LEU", "s3cret"), "va-ingest-1": ("MQTT_PASSWORD_INGEST_1", "")}
    done = run_entrypoint(tmp_path / "run", users, command=("echo", "broker started"))
    assert done.returncode != 0
    assert "MQTT_PASSWORD_INGEST_1" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert "broker started" not in done.stdout
    assert not (tmp_path / "run" / "passwd").exists()


def test_entrypoint_refuses_a_colon_in_a_password(tmp_path: Path) -> None:
    done = run_entrypoint(tmp_path / "run", {"gw-saint-leu": ("MQTT_PASSWORD_GW_SAINT_LEU", "a:b")})
    assert done.returncode != 0
    assert "MQTT_PASSWORD_GW_SAINT_LEU" in done.stderr
    assert "a:b" not in done.stderr


def test_entrypoint_runs_the_broker_command_without_the_secrets(tmp_path: Path) -> None:
    done = run_entrypoint(tmp_path / "run", USERS, command=("env",))
    assert done.returncode == 0, done.stderr
    for var, password in USERS.values():
        assert var not in done.stdout
        assert password not in done.stdout


@pytest.mark.parametrize("users", ["gw-a", "GW-A=X", "gw-a=1X", "gw-a=X gw-a=Y"])
def test_entrypoint_refuses_malformed_user_lists(tmp_path: Path, users: str) -> None:
    env = {"PATH": "/usr/bin:/bin:/usr/sbin", "MOSQUITTO_USERS": users, "X": "x", "Y": "y"}
    env["MOSQUITTO_RUN_DIR"] = str(tmp_path / "run")
    env["MOSQUITTO_ACL"] = str(Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl")
    done = subprocess.run(
        ["sh", "deploy/mosquitto/entrypoint.sh", "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode != 0
    assert "mosquitto entrypoint:" in done.stderr


def test_simulated_field_devices_reach_their_gateway_only(tmp_path: Path) -> None:
    users = {
        "gw-gare-la-vallee": ("MQTT_PASSWORD_GW_GARE_LA_VALLEE", "s3cret-glv"),
        "gw-saint-leu": ("MQTT_PASSWORD_GW_SAINT_LEU", "s3cret-saint-leu"),
        "va-simulators": ("MQTT_PASSWORD_SIMULATORS", "s3cret-sim"),
    }
    run_dir = tmp_path / "run"
    assert run_entrypoint(run_dir, users).returncode == 0
    broker = ProdMosquitto(tmp_path / "broker", run_dir)
    broker.start()
    clients: list[mqtt.Client] = []
    try:

        def peer(user: str) -> Peer:
            settings = _settings(broker, user, users[user][1])
            p = Peer(make_client(settings, f"{user}-field"))
            p.client.on_message = lambda c, u, m: p.received.put((m.topic, bytes(m.payload)))
            p.client.on_subscribe = lambda c, u, mid, rc, pr: p.acks.__setitem__(mid, int(rc[0].value))
            p.client.on_publish = lambda c, u, mid, rc, pr: p.acks.__setitem__(mid, int(rc.value))
            clients.append(p.client)
            connect_blocking(p.client, settings)
            return p

        site_gateway, other_gateway, devices = peer("gw-gare-la-vallee"), peer("gw-saint-leu"), peer("va-simulators")
        assert site_gateway.subscribe("shellies/+/status") == 1
        assert other_gateway.subscribe("shellies/+/status") == 1
        assert other_gateway.publish("shellies/mdp-load/status", b"forged") == NOT_AUTHORIZED
        assert devices.publish("va/v1/uplink/gw-gare-la-vallee", b"forged") == NOT_AUTHORIZED
        assert devices.publish("shellies/mdp-load/status", b'{"emeters": []}') == 0
        assert devices.publish("tele/mdp-pv/SENSOR", b"{}") in (0, 16)  # 16: accepted, no subscriber
        got: list[tuple[str, bytes]] = []
        wait_for(lambda: site_gateway.drain(got), what="the device's status at its gateway")
        assert got == [("shellies/mdp-load/status", b'{"emeters": []}')]
        # the other gateway was subscribed first and saw nothing of it
        assert other_gateway.messages() == []
    finally:
        for c in clients:
            _close(c)
        broker.kill()


QUEUE_SETTINGS = (
    "max_queued_messages",
    "max_queued_bytes",
    "max_inflight_messages",
    "max_packet_size",
    "persistence",
    "autosave_interval",
    "persistent_client_expiration",
)


def _settings_of(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        words = line.split()
        if words and not words[0].startswith("#") and words[0] in QUEUE_SETTINGS:
            out[words[0]] = " ".join(words[1:])
    return out


def test_production_keeps_the_platform_broker_queue_settings() -> None:
    platform = _settings_of(MOSQUITTO_DIR / "mosquitto.conf")
    production = _settings_of(PROD_CONF)
    assert set(production) == set(QUEUE_SETTINGS)
    assert production == platform
    assert int(production["max_queued_messages"]) == 0 or int(production["max_queued_messages"]) >= 1_000_000
