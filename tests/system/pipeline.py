"""The whole pipeline as real processes, and a lossless ledger of what the gateway produced.

Simulators → gateway → Mosquitto → two ingest workers (one shared subscription) → InfluxDB, and
the rollup compiler (``ville-autonome rollups``) on InfluxDB. Each part is a ``ville-autonome`` child process; the broker and the database are real processes
too (the session ones, or private ones a test may stop, kill and start again).

Counting (docs/reliability.md):

- *produced* = every reading of every envelope the gateway sealed. A test observer (the
  ``Ledger``) subscribes to the gateway's uplink at QoS 1 with a persistent session and records
  each envelope by sequence number. Whether it missed one is checked, not assumed: after the
  gateway has stopped, its buffer file says how many envelopes it ever sealed (``next_seq``,
  persisted in the same transaction as each envelope), and the ledger must hold exactly the
  sequence numbers ``1 … next_seq - 1``.
- *stored* = distinct (device, quantity, time) points in InfluxDB, counted by InfluxQL
  (``count(quality)`` for every reading, ``count(value)`` for those with a value) and read back
  point by point for the exact comparison.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support.processes import CommandProcess
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.readings.envelope import decode
from ville_autonome.readings.model import Reading

GATEWAY = "gw-sys"
DEVICES = ("sys-meter", "sys-load", "sys-pv")
POLL_INTERVAL_S = 0.5
SHARED_GROUP = "sys-ingest"

SCENARIO = """\
seed: 11
devices:
  sys-meter: {model: meter, rated_power_w: 200000}
  sys-load: {model: load, profile: office, peak_w: 120000, base_fraction: 0.4}
  sys-pv: {model: pv, peak_w: 60000, rated_power_w: 50000}
"""

Key = tuple[str, str, int]  # (device, quantity, ts_ms)


def distinct_free_ports(n: int) -> list[int]:
    """``n`` different free ports: each stays bound until all are chosen (two separate
    ``free_port()`` calls may return the same port)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def write_config(
    directory: Path, *, mqtt_url: str, topic_root: str, influx_url: str, database: str, ports: list[int]
) -> Path:
    """A one-site configuration: three Modbus devices on their own ports, polled every 0.5 s."""
    scenario = directory / "scenario.yaml"
    scenario.write_text(SCENARIO)
    profiles = {"sys-meter": "grid", "sys-load": "consumption", "sys-pv": "production"}
    devices = []
    for (dev, role), port in zip(profiles.items(), ports, strict=True):
        profile = "sunspec-inverter-103" if role == "production" else "sunspec-meter-203"
        source = "\n            source: pv" if role == "production" else ""
        devices.append(
            f"""\
          - id: {dev}
            name: {dev}
            role: {role}{source}
            protocol: modbus-tcp
            address: 127.0.0.1:{port}
            unit_id: 1
            profile: {profile}
            poll_interval_s: {POLL_INTERVAL_S}
            timeout_s: 0.5
            max_backoff_s: 1.0
"""
        )
    path = directory / "system.yaml"
    path.write_text(
        f"""\
city:
  id: sysville
  name: System Ville
services:
  mqtt:
    url: {mqtt_url}
    topic_root: {topic_root}
  store:
    backend: influxdb
    url: {influx_url}
    database: {database}
    rollup_refresh_s: 1
  simulator:
    scenario: {scenario}
  ingest:
    batch_interval_s: 0.2
gateways:
  - id: {GATEWAY}
    buffer_path: {directory / "gateway.buffer.sqlite"}
    publish_interval_s: 0.2
    ack_timeout_s: 5
    replay_rate_per_s: 50
districts:
  - id: sys-district
    name: System district
    sites:
      - id: sys-site
        name: System site
        gateway: {GATEWAY}
        devices:
{"".join(devices)}"""
    )
    return path


class Ledger:
    """Every envelope published on the gateway's uplink, by sequence number (QoS 1, persistent session)."""

    def __init__(self, broker: Mosquitto, topic_root: str) -> None:
        self.topic = f"{topic_root}/v1/uplink/{GATEWAY}"
        self.envelopes: dict[int, tuple[Reading, ...]] = {}
        self.deliveries = 0
        self.conflicts = 0  # a sequence number seen twice with different readings (reused: never expected)
        self.subscriptions = 0  # SUBACKs received: one per (re)connection
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{topic_root}-ledger", protocol=mqtt.MQTTv5
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect(broker.host, broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        wait_for(self.client.is_connected, what="ledger connected")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topic, qos=1)  # again after a broker that lost its sessions (kill -9)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._lock:
            self.subscriptions += 1

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        env = decode(bytes(msg.payload))
        with self._lock:
            self.deliveries += 1
            if env.seq in self.envelopes and self.envelopes[env.seq] != env.readings:
                self.conflicts += 1
            self.envelopes[env.seq] = env.readings

    def seqs(self) -> set[int]:
        with self._lock:
            return set(self.envelopes)

    def readings(self) -> list[Reading]:
        with self._lock:
            return [r for rs in self.envelopes.values() for r in rs]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Produced:
    """The produced set: every reading sealed by the gateway, keyed by (device, quantity, ts)."""

    readings: dict[Key, Reading] = field(default_factory=dict)
    duplicates: int = 0  # the same key in two envelopes (never expected)

    @classmethod
    def of(cls, readings: Iterable[Reading]) -> Produced:
        out = cls()
        for r in readings:
            key = (r.device, r.quantity, r.ts_ms)
            if key in out.readings:
                out.duplicates += 1
            out.readings[key] = r

        return out

    def counts(self, *, with_value: bool) -> Counter[tuple[str, str]]:
        return Counter((d, q) for (d, q, _), r in self.readings.items() if not with_value or r.value is not None)


def stored_counts(influxd: Influxd, database: str, field_name: str, where: str = "") -> Counter[tuple[str, str]]:
    """InfluxQL ``count(<field>) … GROUP BY device, quantity``: distinct points per series."""
    query = f'SELECT count("{field_name}") FROM readings {where} GROUP BY device, quantity'  # noqa: S608 (test's own)
    doc = influxd.query(query, database)
    out: Counter[tuple[str, str]] = Counter()
    for series in doc["results"][0].get("series", []):
        out[(series["tags"]["device"], series["tags"]["quantity"])] = int(series["values"][0][1])
    return out


def stored_points(influxd: Influxd, database: str, where: str = "") -> dict[Key, tuple[float | None, str]]:
    """Every stored reading point: (device, quantity, ts) → (value, quality)."""
    query = f"SELECT value, quality FROM readings {where} GROUP BY device, quantity"  # noqa: S608 (test's own)
    doc = influxd.query(query, database)
    out: dict[Key, tuple[float | None, str]] = {}
    for series in doc["results"][0].get("series", []):
        device, quantity = series["tags"]["device"], series["tags"]["quantity"]
        for ts, value, quality in series["values"]:
            out[(device, quantity, int(ts))] = (value, quality)
    return out


def newest_stored_ms(influxd: Influxd, database: str) -> int:
    doc = influxd.query("SELECT last(quality) FROM readings", database)
    series = doc["results"][0].get("series")
    return int(series[0]["values"][0][0]) if series else 0


def buffer_state(buffer_path: Path) -> tuple[int, int]:
    """(next_seq, envelopes held) from the gateway's buffer file, read by another process (WAL)."""
    db = sqlite3.connect(buffer_path, timeout=5)
    try:
        row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
        held = db.execute("SELECT count(*) FROM envelopes").fetchone()[0]
        return (int(row[0]) if row else 1), int(held)
    finally:
        db.close()


def oldest_held(buffer_path: Path) -> float:
    """The oldest sequence number still held (unacknowledged) in the gateway's buffer; inf if none."""
    db = sqlite3.connect(buffer_path, timeout=5)
    try:
        row = db.execute("SELECT min(seq) FROM envelopes").fetchone()
        return float(row[0]) if row and row[0] is not None else float("inf")
    finally:
        db.close()


def now_ms() -> int:
    return int(time.time() * 1000)


class Pipeline:
    """Simulators, one gateway, two ingest workers and the rollup compiler as processes, wired to a
    broker and a database."""

    def __init__(self, workdir: Path, broker: Mosquitto, influxd: Influxd, name: str) -> None:
        self.workdir = workdir
        self.broker = broker
        self.influxd = influxd
        self.database = name
        *device_ports, self.control_port = distinct_free_ports(len(DEVICES) + 1)
        self.config = write_config(
            workdir, mqtt_url=broker.url, topic_root=name, influx_url=influxd.url, database=name, ports=device_ports
        )
        self.buffer_path = workdir / "gateway.buffer.sqlite"
        c = ["-c", str(self.config)]
        self.simulator = CommandProcess(
            "simulate", ["simulate", *c, "--control-port", str(self.control_port)], workdir=workdir
        )
        self.gateway = CommandProcess("gateway", ["gateway", *c, "--id", GATEWAY], workdir=workdir)
        self.workers = [
            CommandProcess(
                f"ingest-{i}",
                ["ingest", *c, "--client-id", f"{name}-ingest-{i}", "--shared-group", SHARED_GROUP],
                workdir=workdir,
            )
            for i in (1, 2)
        ]
        self.rollups = CommandProcess("rollups", ["rollups", *c, "--name", f"{name}-rollups"], workdir=workdir)
        self.ledger: Ledger | None = None
        self.since_ms = 0  # the accounting covers readings measured from here on (live data)
        self.figures: dict[str, Any] = {}

    # ------------------------------------------------------------------ life cycle

    @property
    def processes(self) -> list[CommandProcess]:
        return [self.simulator, *self.workers, self.rollups, self.gateway]

    def start(self) -> None:
        self.since_ms = now_ms() - 60_000
        self.ledger = Ledger(self.broker, self.database)
        for p in self.processes:
            p.start()
        self.wait_flowing(since_ms=now_ms(), timeout=60, what="first readings stored")
        assert self.all_running(), self.logs()

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()
        for p in reversed(self.processes):
            p.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} log ---\n{p.log()[-2500:]}" for p in self.processes)

    def all_running(self) -> bool:
        return all(p.running for p in self.processes)

    # ------------------------------------------------------------------ faults

    def fault(self, device: str, fault: str) -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}/faults/{device}/{fault}", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            assert r.status == 200

    def clear_faults(self) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/faults", method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            assert r.status == 200

    def wait_control(self) -> None:
        def answers() -> bool:
            url = f"http://127.0.0.1:{self.control_port}/faults"
            with urllib.request.urlopen(url, timeout=1) as r:
                return bool(r.status == 200)

        wait_for(answers, timeout=30, what="simulator control endpoint")

    # ------------------------------------------------------------------ observation

    def wait_flowing(self, *, since_ms: int, timeout: float = 60, what: str = "new readings stored") -> float:
        """Wait until a reading measured after ``since_ms`` is stored; return the seconds it took."""
        t0 = time.monotonic()
        wait_for(lambda: newest_stored_ms(self.influxd, self.database) > since_ms, timeout=timeout, what=what)
        return time.monotonic() - t0

    def buffered(self) -> int:
        return buffer_state(self.buffer_path)[1]

    def ride_out(self, seconds: float, *, check: Any = None) -> None:
        """Let a fault last ``seconds`` (the fault itself, not a synchronisation): a deadline-bounded
        loop that keeps checking the system (``check`` must stay true) while the fault lasts."""
        deadline = time.monotonic() + seconds

        def fault_over() -> bool:
            if check is not None:
                assert check(), "a check failed while the fault lasted"
            return time.monotonic() >= deadline

        wait_for(fault_over, timeout=seconds + 30, interval=0.2, what=f"the {seconds:.0f} s fault to end")

    def kill_broker(self) -> None:
        """kill -9 the broker and start it again. A broker killed -9 forgets the sessions it had not
        saved, the ledger's subscription with them, and whatever the gateway published before the
        ledger subscribed again would be missing from the produced set (the ingest may store and
        acknowledge it first). So the gateway is frozen (SIGSTOP) from just before the kill until
        the ledger has its subscription back; then it resumes, reconnects and re-sends by itself."""
        assert self.ledger is not None
        subscribed = self.ledger.subscriptions
        self.gateway.pause()
        try:
            self.broker.kill()
            self.broker.start()
            wait_for(lambda: self.ledger is not None and self.ledger.subscriptions > subscribed, what="ledger back")
        finally:
            self.gateway.resume()

    # ------------------------------------------------------------------ accounting

    def account(self, *, timeout: float = 90) -> Produced:
        """Stop the gateway cleanly, prove the ledger complete, then wait until the store holds
        exactly the produced set. Returns the produced set (for further checks)."""
        assert self.ledger is not None
        # what the gateway still holds unacknowledged would be re-sent only after its restart: let
        # every envelope sealed so far be acknowledged (re-sent if need be) before the clean stop
        # (live envelopes keep coming, so "nothing held" is not the condition)
        upto = buffer_state(self.buffer_path)[0]
        wait_for(
            lambda: oldest_held(self.buffer_path) >= upto,
            timeout=timeout / 2,
            interval=0.2,
            what=f"gateway envelopes before seq {upto} acknowledged",
        )
        code = self.gateway.stop()
        assert code == 0, f"gateway exit status {code}"
        next_seq, _held = buffer_state(self.buffer_path)
        sealed = set(range(1, next_seq))
        wait_for(lambda: self.ledger is not None and self.ledger.seqs() >= sealed, timeout=30, what="ledger complete")
        extra = self.ledger.seqs() - sealed
        assert not extra, f"envelopes observed that the gateway never sealed: {sorted(extra)[:10]}"
        assert self.ledger.conflicts == 0, "a sequence number reused for other readings"
        produced = Produced.of(self.ledger.readings())
        assert all(k[2] >= self.since_ms for k in produced.readings), "a live reading older than the pipeline"
        assert produced.duplicates == 0, "one (device, quantity, ts) in two envelopes"
        want_all = produced.counts(with_value=False)
        want_valued = produced.counts(with_value=True)

        live = f"WHERE time >= {self.since_ms}ms"

        def counts_match() -> bool:
            return stored_counts(self.influxd, self.database, "quality", live) == want_all

        try:
            wait_for(counts_match, timeout=timeout, interval=0.5, what="stored counts = produced counts")
        except AssertionError:
            have = stored_counts(self.influxd, self.database, "quality", live)
            diff = {
                k: (want_all.get(k, 0), have.get(k, 0))
                for k in set(want_all) | set(have)
                if want_all.get(k) != have.get(k)
            }
            raise AssertionError(f"(produced, stored) per series differ: {diff}\n{self.logs()}") from None
        assert stored_counts(self.influxd, self.database, "value", live) == want_valued
        # point by point: same keys, same values, same quality — each reading exactly once
        points = stored_points(self.influxd, self.database, live)
        assert points.keys() == produced.readings.keys()
        for key, r in produced.readings.items():
            value, quality = points[key]
            assert quality == r.quality.value, key
            assert (value is None) == (r.value is None), key
            if r.value is not None:
                assert value is not None, key
                assert abs(value - r.value) <= 1e-9 * max(1.0, abs(r.value)), key
        self.figures.update(
            envelopes=next_seq - 1,
            ledger_deliveries=self.ledger.deliveries,
            produced=len(produced.readings),
            stored=len(points),
            produced_with_value=sum(want_valued.values()),
        )
        return produced

    def sequence_gaps(self) -> list[Any]:
        """The ingest's own gap detection (store.gaps()) for the gateway, read back through the store."""
        from ville_autonome.configuration.loader import load_config
        from ville_autonome.storage.factory import open_store

        config = load_config(self.config)
        store = open_store(config.services.store)
        try:
            return list(store.gaps(GATEWAY))
        finally:
            store.close()

    def report(self, fault: str) -> None:
        print(f"\nRELIABILITY {fault}: {json.dumps(self.figures, sort_keys=True)}")
