"""Issue 13, as an attacker and an unlucky operator would try it, against real ingest processes,
a real Mosquitto and real stores: poison messages (retained too) in the production shape of two
workers in a shared group, a gateway speaking for devices that are not behind it, the same
sequence number with other content, a store that refuses the ingest's credentials, and SIGTERM
while the worker is retrying."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ingest.conftest import DEVICES, GATEWAY, Client, config_doc, envelope
from tests.support.processes import CommandProcess
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.storage.factory import open_store

T0 = int(time.time() * 1000) - 3_600_000
GOOD = {"device": "dev-grid", "quantity": "active_power_w", "ts": T0, "value": 1.5, "quality": "good"}


def _envelope_text(readings: list[Any], seq: int = 1, gateway: str = GATEWAY) -> bytes:
    return json.dumps({"schema": 1, "gateway": gateway, "seq": seq, "sent_ms": T0, "readings": readings}).encode()


def _health_text(devices: Any, gateway: str = GATEWAY) -> bytes:
    return json.dumps({"schema": 1, "gateway": gateway, "ts": T0, "devices": devices}).encode()


POISON_UPLINK = [
    b'{"schema":1,"gateway":"gw-test","seq":900,"readings":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    _envelope_text([GOOD], seq=901).replace(b"1.5", b"1e400"),
    _envelope_text([GOOD], seq=902).replace(b"1.5", b"9" * 5000),
    _envelope_text([{**GOOD, "value": 10**30}], seq=903),
    _envelope_text([{}] * 20_000, seq=904),
]
POISON_HEALTH = [
    _health_text([{"device": "dev-grid", "online": True, "errors": [1, 2]}]),
    _health_text(5),
    _health_text([{"device": "dev-grid", "online": "yes", "last_seen": "never"}]),
    b'{"schema":1,"gateway":"gw-test","ts":1,"devices":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., CommandProcess]]:
    started: list[CommandProcess] = []

    def start(config: Path, name: str, *args: str, env: dict[str, str] | None = None) -> CommandProcess:
        status = tmp_path / f"{name}.status"
        p = CommandProcess(
            name,
            ["ingest", "-c", str(config), "--client-id", name, *args],
            workdir=tmp_path,
            env={"VA_INGEST_STATUS_FILE": str(status), **(env or {})},
        )
        started.append(p.start())
        return p

    yield start
    for p in started:
        p.stop()
        print(f"--- {p.name} ---\n{p.log()[-3000:]}")


def _status(tmp_path: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((tmp_path / f"{name}.status").read_text()))


def _healthy(tmp_path: Path, *names: str) -> bool:
    return all(_status(tmp_path, n)["healthy"] for n in names)


def _write_config(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "ingest.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _count(store_path: Path, device: str = "dev-grid", quantity: str = "active_power_w") -> int:
    store = open_store(StoreSettings(backend="sqlite", path=str(store_path)))
    try:
        return len(store.series(device, quantity, 0, 2**53, limit=10**6))
    finally:
        store.close()


def test_poison_messages_cost_one_message_each_in_the_production_shape(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    workers: Callable[..., CommandProcess],
) -> None:
    """Before: deeply nested JSON, a number beyond the float range, an integer thousands of digits
    long or health fields of the wrong type killed a worker's validation thread for good (the
    process up, acknowledging nothing, deaf to SIGTERM); a retained one killed every worker that
    started. Now each costs one dead letter and the city goes on."""
    store_path = tmp_path / "store.sqlite"
    config = _write_config(
        tmp_path, config_doc(mosquitto.url, unique_name, {"backend": "sqlite", "path": str(store_path)})
    )
    client = client_factory(mosquitto, unique_name)
    # retained before any worker starts: every worker that starts receives it
    client.publish_all([])
    info = client.publish(client.topics.health(GATEWAY), POISON_HEALTH[0], retain=True)
    info.wait_for_publish(10)
    try:
        w1 = workers(config, f"{unique_name}-w1", "--shared-group", "g")
        w2 = workers(config, f"{unique_name}-w2", "--shared-group", "g")
        names = (w1.name, w2.name)
        wait_for(lambda: _healthy(tmp_path, *names), timeout=30, what="both workers up", retry_on=(OSError, ValueError))
        poison = [(client.topics.uplink(GATEWAY), p) for p in POISON_UPLINK]
        poison += [(client.topics.health(GATEWAY), p) for p in POISON_HEALTH]
        client.publish_all(poison * 2)  # each worker of the group gets its share, twice over
        client.publish_envelopes([envelope(GATEWAY, seq, T0, n=3) for seq in range(1, 41)])
        wait_for(
            lambda: client.acked(GATEWAY) >= set(range(1, 41)), timeout=60, what="every good envelope acknowledged"
        )
        assert sum(_count(store_path, d) for d in DEVICES) == 120
        # one dead letter per poison message (and the retained one, once per worker)
        wait_for(lambda: len(client.dead_letters()) >= 2 * len(poison) + 2, timeout=30, what="the dead letters")
        reasons = {r for d in client.dead_letters() for r in d["reasons"]}
        assert {"not_an_envelope", "bad_reading", "bad_health", "bad_health_record"} <= reasons
        assert "undecodable" not in reasons  # the guard is a safety net: the decoders name every case
        empties = [d for d in client.dead_letters() if d["seq"] == 904]
        assert empties
        assert all(d["reasons"] == {"bad_reading": 20_000} and len(d["rejected"]) == 100 for d in empties)
        assert w1.running
        assert w2.running
        assert _healthy(tmp_path, *names)
    finally:
        client.publish(client.topics.health(GATEWAY), b"", retain=True).wait_for_publish(10)  # clear it
    t0 = time.monotonic()
    assert (w1.stop(timeout=30), w2.stop(timeout=30)) == (0, 0)  # SIGTERM obeyed
    print(f"both workers stopped {time.monotonic() - t0:.1f} s after SIGTERM")
    lines = [ln for ln in (w1.log() + w2.log()).splitlines() if "dead letter" in ln]
    assert len(lines) < 100, "dead letters are logged at a bounded rate"


def test_a_gateway_speaks_only_for_its_own_devices_within_their_range(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    workers: Callable[..., CommandProcess],
) -> None:
    """Before: with one gateway's credentials, readings for another gateway's device (987,654 W,
    10¹² Wh) and for an unconfigured device were stored as good and acknowledged; health too."""
    store_path = tmp_path / "store.sqlite"
    doc = config_doc(mosquitto.url, unique_name, {"backend": "sqlite", "path": str(store_path)})
    doc["districts"][0]["sites"][0]["devices"][1]["rated_power_w"] = 50_000  # dev-pv
    config = _write_config(tmp_path, doc)
    client = client_factory(mosquitto, unique_name)
    w = workers(config, f"{unique_name}-w")
    wait_for(lambda: _healthy(tmp_path, w.name), timeout=30, what="the worker up", retry_on=(OSError, ValueError))
    forged = Envelope(
        GATEWAY,
        1,
        T0,
        (
            Reading("dev-bat", "active_power_w", T0, 987_654.0),  # behind gw-other
            Reading("dev-bat", "energy_discharged_wh", T0, 1e12),
            Reading("ghost", "active_power_w", T0, 5.0),  # not configured
            Reading("dev-pv", "active_power_w", T0, 150_000.0),  # 3 × its rated power
            Reading("dev-pv", "energy_produced_wh", T0, 1e12),  # 2,000 years at full power
            Reading("dev-pv", "active_power_w", T0 + 1, 40_000.0),  # fine
        ),
    )
    health = _health_text(
        [
            {"device": "dev-bat", "online": False, "last_seen": T0},
            {"device": "ghost", "online": True},
            {"device": "dev-pv", "online": True, "last_seen": T0},
        ]
    )
    client.publish_all([(client.topics.uplink(GATEWAY), encode(forged)), (client.topics.health(GATEWAY), health)])
    wait_for(lambda: 1 in client.acked(GATEWAY) and len(client.dead_letters()) >= 2, timeout=30, what="handled")
    uplink = next(d for d in client.dead_letters() if d["kind"] == "uplink")
    assert uplink["reasons"] == {"foreign_device": 2, "unknown_device": 1, "out_of_range": 2}
    assert [e["index"] for e in uplink["rejected"]] == [0, 1, 2, 3, 4]
    health_letter = next(d for d in client.dead_letters() if d["kind"] == "health")
    assert health_letter["reasons"] == {"foreign_device": 1, "unknown_device": 1}
    store = open_store(StoreSettings(backend="sqlite", path=str(store_path)))
    try:
        assert {(v.context.device, v.value) for v in store.latest()} == {("dev-pv", 40_000.0)}
        wait_for(lambda: {h.device for h in store.health()} == {"dev-pv"}, timeout=10, what="health of dev-pv only")
    finally:
        store.close()


def test_the_same_seq_with_other_content_is_refused_and_the_first_kept(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    workers: Callable[..., CommandProcess],
) -> None:
    """Before: a second envelope with the same gateway and seq but other values silently
    overwrote the first."""
    store_path = tmp_path / "store.sqlite"
    config = _write_config(
        tmp_path, config_doc(mosquitto.url, unique_name, {"backend": "sqlite", "path": str(store_path)})
    )
    client = client_factory(mosquitto, unique_name)
    w = workers(config, f"{unique_name}-w")
    wait_for(lambda: _healthy(tmp_path, w.name), timeout=30, what="the worker up", retry_on=(OSError, ValueError))
    first = Envelope(GATEWAY, 5, T0, (Reading("dev-grid", "active_power_w", T0, 100.0),))
    other = Envelope(GATEWAY, 5, T0, (Reading("dev-grid", "active_power_w", T0, 999.0),))
    client.publish_envelopes([first])
    wait_for(lambda: 5 in client.acked(GATEWAY), timeout=30, what="the first envelope")
    client.publish_envelopes([first, other])  # a faithful re-send, then the conflict
    wait_for(lambda: client.dead_letters(), timeout=30, what="the conflict's dead letter")
    (letter,) = client.dead_letters()
    assert (letter["seq"], letter["reasons"]) == (5, {"seq_conflict": 1})
    store = open_store(StoreSettings(backend="sqlite", path=str(store_path)))
    try:
        assert [p.value for p in store.series("dev-grid", "active_power_w", 0, 2**53, limit=10)] == [100.0]
    finally:
        store.close()


class AuthInfluxd(Influxd):
    """influxd 1.x with authentication on and one admin user."""

    user, password = "va", "right-password"

    def _argv(self) -> list[str]:
        argv = super()._argv()
        self.conf_path.write_text(self.conf_path.read_text().replace("[http]\n", "[http]\n  auth-enabled = true\n"))
        return argv

    def admin(self, q: str, password: str | None = None) -> None:
        params = urllib.parse.urlencode({"q": q})
        req = urllib.request.Request(f"{self.url}/query", data=params.encode(), method="POST")  # noqa: S310
        token = base64.b64encode(f"{self.user}:{password or self.password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback)
            assert r.status == 200


@pytest.fixture
def auth_influxd(tmp_path: Path) -> Iterator[AuthInfluxd]:
    db = AuthInfluxd(tmp_path / "influxd-auth")
    db.start()
    try:
        # the first admin user may be created without credentials (InfluxDB 1.x)
        body = urllib.parse.urlencode({"q": f"CREATE USER {db.user} WITH PASSWORD '{db.password}' WITH ALL PRIVILEGES"})
        with urllib.request.urlopen(urllib.request.Request(f"{db.url}/query", data=body.encode()), timeout=10):  # noqa: S310
            pass
        yield db
    finally:
        db.kill()


def test_refused_store_credentials_are_loud_lose_nothing_and_sigterm_is_obeyed(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    workers: Callable[..., CommandProcess],
    auth_influxd: AuthInfluxd,
) -> None:
    """Before: a revoked password (401) was reported as "unavailable", logged once, and the worker
    spun silently. Now its health turns red naming the credentials, the messages wait unacknowledged,
    everything is written once the password is right again, and SIGTERM is obeyed mid-retry."""
    store = {"backend": "influxdb", "url": auth_influxd.url, "database": unique_name}
    config = _write_config(tmp_path, config_doc(mosquitto.url, unique_name, store))
    env = {"VA_STORE_USERNAME": auth_influxd.user, "VA_STORE_PASSWORD": auth_influxd.password}
    client = client_factory(mosquitto, unique_name)
    w = workers(config, f"{unique_name}-w", env=env)
    wait_for(lambda: _healthy(tmp_path, w.name), timeout=30, what="the worker up", retry_on=(OSError, ValueError))
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=3) for s in range(1, 6)])
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 6)), timeout=30, what="the first envelopes")
    auth_influxd.admin(f"SET PASSWORD FOR {auth_influxd.user} = 'revoked'")  # the credentials no longer work
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=3) for s in range(6, 11)])

    def red() -> bool:
        status = _status(tmp_path, w.name)
        return not status["healthy"] and "credentials" in " ".join(status["problems"])

    wait_for(red, timeout=30, what="the worker's health red, naming the credentials", retry_on=(OSError, ValueError))
    assert "refuses the ingest's credentials" in w.log()
    assert client.acked(GATEWAY) == set(range(1, 6)), "nothing acknowledged without a write"
    auth_influxd.admin(f"SET PASSWORD FOR {auth_influxd.user} = '{auth_influxd.password}'", password="revoked")
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 11)), timeout=60, what="everything written once fixed")
    wait_for(lambda: _healthy(tmp_path, w.name), timeout=30, what="health green again", retry_on=(OSError, ValueError))
    # revoked again, and the operator stops the worker while it retries
    auth_influxd.admin(f"SET PASSWORD FOR {auth_influxd.user} = 'revoked'")
    client.publish_envelopes([envelope(GATEWAY, 11, T0, n=3)])
    wait_for(red, timeout=30, what="red again", retry_on=(OSError, ValueError))
    assert w.stop(timeout=30) == 0
