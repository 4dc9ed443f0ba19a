"""The fault suite, as an attacker and an unlucky operator (issue 13): the whole pipeline as real
processes (tests/system/pipeline.py) while poison messages arrive on the uplink and health topics
(retained too), a gateway forges readings of devices that are not behind it, one of two shared
ingest workers is killed -9 in the middle of a backfill, and the gateway's buffer file is rolled
back (a power cut) while an acknowledgement of the lost envelopes is still in flight. Every
reading is counted as in tests/system/test_faults.py: stored = produced, exactly once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from tests.ingest.conftest import Client
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from tests.system.conftest import PipelineFactory
from tests.system.counting import GATEWAY, Produced, buffer_state, stored_counts
from tests.system.pipeline import Pipeline, now_ms
from tests.system.test_faults import finish, recovered_by_itself
from ville_autonome.configuration.loader import load_config
from ville_autonome.readings.ack import decode_ack
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.simulators.backfill import generate
from ville_autonome.simulators.backfill_publish import publish_backfill

BUFFER_BUSY = (sqlite3.OperationalError,)


def _health(gateway: str, devices: Any) -> bytes:
    return json.dumps({"schema": 1, "gateway": gateway, "ts": now_ms(), "devices": devices}).encode()


def _poison(gateway: str) -> list[tuple[str, bytes]]:
    """(kind, payload): each used to stop an ingest worker for good, or to be stored as good."""
    good = {"device": "sys-meter", "quantity": "active_power_w", "ts": now_ms(), "value": 1.0}

    def env(readings: list[Any], seq: int) -> bytes:
        return json.dumps({"schema": 1, "gateway": gateway, "seq": seq, "readings": readings}).encode()

    return [
        (
            "uplink",
            b'{"schema":1,"gateway":"'
            + gateway.encode()
            + b'","seq":1,"readings":'
            + b"[" * 50_000
            + b"]" * 50_000
            + b"}",
        ),
        ("uplink", env([good], 2).replace(b"1.0", b"1e400")),
        ("uplink", env([good], 3).replace(b"1.0", b"7" * 5000)),
        ("uplink", env([{}] * 20_000, 4)),
        ("health", _health(gateway, [{"device": "sys-meter", "online": True, "errors": [1]}])),
        ("health", _health(gateway, 5)),
        ("health", b'{"schema":1,"gateway":"x","ts":1,"devices":' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    ]


def test_poison_messages_on_uplink_and_health_retained_too(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    p = pipeline_factory(mosquitto, influxd)
    attacker = Client(p.broker, p.database, "attacker")
    try:
        retained = attacker.publish(attacker.topics.health(GATEWAY), _poison(GATEWAY)[4][1], retain=True)
        retained.wait_for_publish(10)
        items = [(getattr(attacker.topics, kind)(GATEWAY), payload) for kind, payload in _poison(GATEWAY)]
        attacker.publish_all(items * 3)
        wait_for(lambda: len(attacker.dead_letters()) >= 3 * len(items), timeout=60, what="a dead letter per poison")
        # a worker that starts now receives the retained poison first (killed only now: a worker
        # killed -9 in a shared group loses what it held, and nobody re-sends the poison)
        p.workers[0].kill()
        p.workers[0].start()
        wait_for(lambda: len(attacker.dead_letters()) >= 3 * len(items) + 1, timeout=60, what="the retained one")
        p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=now_ms()), 2)
        p.ride_out(2.0, check=p.all_running)
        letters = attacker.dead_letters()
        p.figures["poison_messages"] = 3 * len(items) + 1
        p.figures["dead_letters"] = len(letters)
        assert "undecodable" not in {r for d in letters for r in d["reasons"]}
    finally:
        attacker.publish(attacker.topics.health(GATEWAY), b"", retain=True).wait_for_publish(10)
        attacker.close()
    finish(p, "poison messages on uplink and health (retained too)")


def test_a_forged_device(pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd) -> None:
    """Another gateway's credentials: readings and health for this gateway's devices, values far
    out of range, in the live window. Refused; the counts below prove nothing of it was stored."""
    p = pipeline_factory(mosquitto, influxd)
    attacker = Client(p.broker, p.database, "forger")
    try:
        t = now_ms()
        forged = Envelope(
            "gw-evil",
            1,
            t,
            (
                *(
                    Reading(d, "active_power_w", t + i, 987_654.0)
                    for i, d in enumerate(("sys-meter", "sys-pv", "ghost"))
                ),
                Reading("sys-meter", "energy_import_wh", t, 1e12),
            ),
        )
        health = _health("gw-evil", [{"device": "sys-meter", "online": False, "last_seen": t}])
        attacker.publish_all(
            [(attacker.topics.uplink("gw-evil"), encode(forged)), (attacker.topics.health("gw-evil"), health)]
        )
        wait_for(lambda: len(attacker.dead_letters()) >= 2, timeout=30, what="the forgeries refused")
        letters = {d["kind"]: d["reasons"] for d in attacker.dead_letters()}
        assert letters == {"uplink": {"foreign_device": 3, "unknown_device": 1}, "health": {"foreign_device": 1}}
        p.figures["forged_readings_refused"] = 4
    finally:
        attacker.close()
    recovered_by_itself(p, fault_end_ms=now_ms())
    finish(p, "a forged device")


def test_a_backfill_with_a_killed_shared_worker(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    """Before: the backfill waited for the broker's PUBACK only; what the killed worker held was
    lost (half of it, measured), with exit status 0."""
    p = pipeline_factory(mosquitto, influxd)
    config = load_config(p.config)
    end = (now_ms() - 86_400_000) // 900_000 * 900_000
    start = end - 6 * 3_600_000
    expected = Produced.of(generate(config, start, end, 10))
    window = f"WHERE time >= {start}ms AND time <= {end}ms"
    victim = p.workers[0]
    progress: list[int] = [0]
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(
                publish_backfill(
                    config,
                    start,
                    end,
                    step_s=10,
                    batch=300,
                    max_inflight=40,
                    ack_timeout_s=5,
                    progress=lambda acked, _total: progress.__setitem__(0, acked),
                )
            )
        except Exception as exc:  # reported by the assertion below
            result.append(exc)

    victim.pause()  # the victim takes its share of the backfill and acknowledges none of it
    publisher = threading.Thread(target=run, name="backfill")
    publisher.start()
    try:
        wait_for(
            lambda: progress[0] >= len(expected.readings) // 3, timeout=60, what="the survivor's share acknowledged"
        )
        victim.kill()  # kill -9 while it holds unacknowledged envelopes
        p.figures["backfill_acked_at_kill"] = progress[0]
    finally:
        publisher.join(timeout=120)
    assert result, "the backfill did not finish"
    assert not isinstance(result[0], Exception), result
    want = expected.counts(with_value=False)
    wait_for(
        lambda: stored_counts(p.influxd, p.database, "quality", window) == want,
        timeout=60,
        what="every backfilled reading stored",
        retry_on=(OSError,),
    )
    p.figures["backfill_readings"] = len(expected.readings)
    victim.start()
    recovered_by_itself(p, fault_end_ms=now_ms())
    finish(p, "a backfill with a killed shared worker")


def _consistent_copy(path: Path, target: Path) -> None:
    src = sqlite3.connect(path, timeout=5)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


class AckRecorder:
    """Every end-to-end acknowledgement the gateway is sent (to play an old one again later)."""

    def __init__(self, p: Pipeline) -> None:
        self.topic = f"{p.database}/v1/ack/{GATEWAY}"
        self.payloads: list[bytes] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{p.database}-acks")
        self.client.on_message = lambda _c, _u, m: self.payloads.append(bytes(m.payload))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(p.broker.host, p.broker.port)
        self.client.subscribe(self.topic, qos=1)
        self.client.loop_start()
        wait_for(subscribed.is_set, what="the ack recorder subscribed")

    def acked(self) -> dict[int, int]:
        """seq → epoch of every acknowledgement seen."""
        return {s: a.epoch for a in (decode_ack(b) for b in list(self.payloads)) for s in a.seqs}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_buffer_rolled_back_by_a_power_cut_while_an_old_ack_is_in_flight(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd, tmp_path: Path
) -> None:
    """A power cut loses the buffer's last transactions (simulated: the file is restored to an
    older copy), so sequence numbers are sealed again with other readings; the acknowledgement of
    the lost envelopes arrives late. Before: it freed the new envelopes, never delivered."""
    p = pipeline_factory(mosquitto, influxd)
    recorder = AckRecorder(p)
    try:
        copy = tmp_path / "older.buffer.sqlite"
        _consistent_copy(p.buffer_path, copy)
        rolled_to = sqlite3.connect(copy).execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()[0]
        lost = range(rolled_to, rolled_to + 4)  # sealed after the copy: lost with the power
        wait_for(
            lambda: set(lost) <= set(recorder.acked()), timeout=30, what="the envelopes after the copy acknowledged"
        )
        p.gateway.kill()
        for w in p.workers:
            w.stop()  # nobody acknowledges the new envelopes for a while
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p.buffer_path}{suffix}").unlink(missing_ok=True)
        shutil.copy(copy, p.buffer_path)
        p.gateway.start()  # a new boot: a new epoch
        wait_for(
            lambda: buffer_state(p.buffer_path)[0] > lost[-1] + 1,
            timeout=30,
            what="seqs sealed again",
            retry_on=BUFFER_BUSY,
        )
        old_epoch = recorder.acked()[lost[0]]
        late = json.dumps({"schema": 1, "gateway": GATEWAY, "epoch": old_epoch, "seqs": list(lost)}).encode()
        if old_epoch == 0:  # the acknowledgement as a gateway without epochs was sent it
            late = json.dumps({"schema": 1, "gateway": GATEWAY, "seqs": list(lost)}).encode()
        info = recorder.client.publish(recorder.topic, late, qos=1)
        info.wait_for_publish(10)
        marker = recorder.client.publish(recorder.topic, b'{"schema":1,"gateway":"other","seqs":[]}', qos=1)
        marker.wait_for_publish(10)
        wait_for(lambda: len(recorder.payloads) >= 2 and recorder.payloads[-1].find(b'"other"') > 0, what="acks seen")
        held = (
            sqlite3.connect(p.buffer_path, timeout=5)
            .execute(
                f"SELECT count(*) FROM envelopes WHERE seq BETWEEN {lost[0]} AND {lost[-1]}"  # noqa: S608 (test's own)
            )
            .fetchone()[0]
        )
        assert held == len(lost), "the late acknowledgement freed new envelopes that were never delivered"
        p.figures["seqs_sealed_again"] = len(lost)
        for w in p.workers:
            w.start()
        recovered_by_itself(p, fault_end_ms=now_ms())
        p.account(rolled_back=True)
        assert p.sequence_gaps() == [], "the ingest sees a sequence gap"
        p.report("buffer rolled back with an old ack in flight")
    finally:
        recorder.close()


SHIPPED_PROD_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.prod.conf"


def _identities(workdir: Path, users: dict[str, str]) -> str:
    """Broker configuration lines: a password per user, and the shipped production broker's
    client-id setting (read from deploy/mosquitto/mosquitto.prod.conf, so the suite runs it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    passwd = workdir / "passwd"
    passwd.write_text("".join(f"{u}:{pw}\n" for u, pw in users.items()))
    subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, capture_output=True, timeout=30)
    shipped = [ln for ln in SHIPPED_PROD_CONF.read_text().splitlines() if ln.startswith("use_username_as_clientid")]
    assert shipped, "the production broker no longer sets use_username_as_clientid"
    return f"allow_anonymous false\npassword_file {passwd}\n" + "\n".join(shipped) + "\n"


def test_a_takeover_attempt(
    pipeline_factory: PipelineFactory,
    mosquitto_factory: Callable[..., Mosquitto],
    influxd: Influxd,
    tmp_path: Path,
    unique_name: str,
) -> None:
    """Another user's credentials with the gateway's and an ingest worker's client ids. Before:
    each was thrown off the broker (the gateway's last will marked its devices offline)."""
    names = [GATEWAY, f"{unique_name}-ingest-1", f"{unique_name}-ingest-2", f"{unique_name}-ledger", "gw-evil", "watch"]
    users = {n: f"pw-{n}" for n in names}
    broker = mosquitto_factory(extra_conf=_identities(tmp_path / "broker-users", users))
    p = pipeline_factory(broker, influxd, users=users)
    status: list[bytes] = []
    watch = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="watch")
    watch.username_pw_set("watch", users["watch"])
    watch.on_message = lambda _c, _u, m: status.append(bytes(m.payload))
    watch.connect(broker.host, broker.port)
    watch.subscribe(f"{unique_name}/v1/status/{GATEWAY}", qos=1)
    watch.loop_start()
    intruders = []
    try:
        wait_for(lambda: status[-1:] == [b"online"], what="the gateway online (retained)")
        for victim_id in ("va-gateway-" + GATEWAY, f"{unique_name}-ingest-1"):
            intruder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=victim_id)
            intruder.username_pw_set("gw-evil", users["gw-evil"])
            intruder.connect(broker.host, broker.port)
            intruder.loop_start()
            intruders.append(intruder)
            wait_for(intruder.is_connected, what=f"the intruder connected as {victim_id}")
        p.ride_out(3.0, check=p.all_running)
        assert b"offline" not in status, "the gateway's last will fired: it was thrown off"
        assert "MQTT uplink lost" not in p.gateway.log()
        p.figures["takeovers_refused"] = len(intruders)
    finally:
        for c in [*intruders, watch]:
            c.disconnect()
            c.loop_stop()
    recovered_by_itself(p, fault_end_ms=now_ms())
    finish(p, "a takeover attempt")
