"""The whole pipeline as real processes, and a lossless ledger of what the gateway produced
(tests/system/counting.py).

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
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.processes import CommandProcess
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from tests.system.counting import (
    GATEWAY,
    Ledger,
    Produced,
    buffer_state,
    newest_stored_ms,
    oldest_held,
    stored_counts,
    stored_points,
)

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


def now_ms() -> int:
    return int(time.time() * 1000)


class Pipeline:
    """Simulators, one gateway, two ingest workers and the rollup compiler as processes, wired to a
    broker and a database."""

    def __init__(
        self, workdir: Path, broker: Mosquitto, influxd: Influxd, name: str, *, users: dict[str, str] | None = None
    ) -> None:
        """``users``: the broker's passwords by user name, when it authenticates (BrokerUsers)."""
        self.workdir = workdir
        self.users = users
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
        self.gateway = CommandProcess(
            "gateway", ["gateway", *c, "--id", GATEWAY], workdir=workdir, env=self._login(GATEWAY)
        )
        self.workers = [
            CommandProcess(
                f"ingest-{i}",
                ["ingest", *c, "--client-id", f"{name}-ingest-{i}", "--shared-group", SHARED_GROUP],
                workdir=workdir,
                env=self._login(f"{name}-ingest-{i}"),
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

    def _login(self, user: str) -> dict[str, str]:
        if self.users is None:
            return {}
        return {"VA_MQTT_USERNAME": user, "VA_MQTT_PASSWORD": self.users[user]}

    def start(self) -> None:
        self.since_ms = now_ms() - 60_000
        ledger_user = f"{self.database}-ledger"
        credentials = (ledger_user, self.users[ledger_user]) if self.users is not None else None
        self.ledger = Ledger(self.broker, self.database, credentials)
        for p in self.processes:
            p.start()
        self.wait_flowing(since_ms=now_ms(), timeout=60, what="first readings stored")
        # one worker storing is not both connected: on a busy machine the other may still be
        # starting, and a fault that takes the broker away then would stop it at start-up
        for worker in self.workers:
            wait_for(lambda w=worker: " running" in w.log(), timeout=60, what=f"{worker.name} connected")
        # the same for the compiler: a service that cannot reach the store at start-up exits, named
        # (StoreStartupError, docs/storage.md), and a fault that stops influxd would then stop it
        wait_for(lambda: "a pass every" in self.rollups.log(), timeout=60, what="the rollup compiler connected")
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

        wait_for(answers, timeout=30, what="simulator control endpoint", retry_on=(OSError,))

    # ------------------------------------------------------------------ observation

    def wait_flowing(self, *, since_ms: int, timeout: float = 60, what: str = "new readings stored") -> float:
        """Wait until a reading measured after ``since_ms`` is stored; return the seconds it took."""
        t0 = time.monotonic()
        wait_for(
            lambda: newest_stored_ms(self.influxd, self.database) > since_ms,
            timeout=timeout,
            what=what,
            retry_on=(OSError,),  # influxd restarting after its own fault
        )
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

        # a failed check fails at once; reading the buffer file or the store may meet a lock or a restart
        wait_for(
            fault_over,
            timeout=seconds + 30,
            interval=0.2,
            what=f"the {seconds:.0f} s fault to end",
            retry_on=(sqlite3.OperationalError, OSError),
        )

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

    def account(self, *, timeout: float = 90, rolled_back: bool = False) -> Produced:
        """Stop the gateway cleanly, prove the ledger complete, then wait until the store holds
        exactly the produced set. Returns the produced set (for further checks). ``rolled_back``:
        the buffer file was restored to an older copy, so sequence numbers above the current
        ``next_seq`` were sealed (and delivered) in an earlier epoch."""
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
            retry_on=(sqlite3.OperationalError,),
        )
        code = self.gateway.stop()
        assert code == 0, f"gateway exit status {code}"
        next_seq, _held = buffer_state(self.buffer_path)
        sealed = set(range(1, next_seq))
        wait_for(lambda: self.ledger is not None and self.ledger.seqs() >= sealed, timeout=30, what="ledger complete")
        extra = self.ledger.seqs() - sealed
        assert rolled_back or not extra, f"envelopes observed that the gateway never sealed: {sorted(extra)[:10]}"
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
            wait_for(
                counts_match, timeout=timeout, interval=0.5, what="stored counts = produced counts", retry_on=(OSError,)
            )
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
