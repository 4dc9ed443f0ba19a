"""Ingest benchmark: raw line-protocol write throughput to InfluxDB (the ceiling) against end-to-end
MQTT → ingest → InfluxDB throughput, same machine; then memory under a store outage.

    .venv/bin/python bench/bench_ingest.py [--readings 500000] [--runs 3] [--outage-s 60]

Fair by construction: the ingest runs as deployed (its own process, ``ville-autonome ingest``)
with the shipped settings (``IngestSettings()``: batch size, batch interval, concurrent writers),
fed envelopes of the gateway's shipped size (``GatewayConfig.max_batch``); the ceiling posts the
same points as ready-made line protocol in batches of the same size over as many concurrent
connections as the ingest has writers. Each run measures both on a fresh database; the figures
are given per run, then as median and spread (min–max), with influxd's CPU per million readings
for each side (what the ingest's extra writes — dirty marks, sequence records — cost the
database) and the load average. Starts its own Mosquitto (with the shipped queue settings, as
every test does) and influxd on free loopback ports in a temporary directory. Target: end to end
≥ 0.6 of the ceiling, zero loss.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psutil
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.services import Influxd, Mosquitto  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.configuration.services import IngestSettings, StoreSettings  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.configuration.topology import GatewayConfig  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.influx_wire.rows import reading_line  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.readings.ack import decode_ack  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.readings.envelope import Envelope, encode  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.readings.model import DeviceContext, Reading, StoredReading  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.readings.topics import Topics  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.storage.factory import open_store  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.storage.influx_store import InfluxStore  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)

GATEWAY = "gw-bench"
DEVICES = [f"dev-{i:03d}" for i in range(50)]
SHIPPED = IngestSettings()
PER_ENVELOPE = int(GatewayConfig.model_fields["max_batch"].default)  # readings per envelope, as a gateway sends


def topology_doc(mqtt_url: str, store: StoreSettings) -> dict[str, Any]:
    return {
        "city": {"id": "bench"},
        "services": {
            "mqtt": {"url": mqtt_url, "topic_root": "bench"},
            "store": store.model_dump(mode="json", exclude_none=True),
            "ingest": SHIPPED.model_copy(update={"client_id": "bench-ingest"}).model_dump(),
        },
        "gateways": [{"id": GATEWAY}],
        "districts": [
            {
                "id": "d",
                "sites": [
                    {
                        "id": "s",
                        "gateway": GATEWAY,
                        "devices": [{"id": d, "role": "consumption", "protocol": "mqtt", "topic": d} for d in DEVICES],
                    }
                ],
            }
        ],
    }


def readings(n: int, t0: int) -> list[Reading]:
    """``n`` readings of the bench's devices, one per device and second from ``t0`` (like real polling)."""
    k = len(DEVICES)
    return [Reading(DEVICES[i % k], "active_power_w", t0 + (i // k) * 1000, float(i % 9973) + 0.5) for i in range(n)]


def ceiling(influxd: Influxd, database: str, n: int, t0: int) -> float:
    """Readings/s of posting the same points as ready-made line protocol, batches of the ingest's
    size over as many connections as it has writers (threads: one connection each)."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=database))
    assert isinstance(store, InfluxStore)
    ctx = {d: DeviceContext("d", "s", d, "consumption", "") for d in DEVICES}
    points = [StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value) for r in readings(n, t0)]
    size = SHIPPED.batch_size
    batches = [[(j, reading_line(p)) for j, p in enumerate(points[i : i + size])] for i in range(0, n, size)]
    lock = threading.Lock()

    def post() -> None:
        while True:
            with lock:
                if not batches:
                    return
                lines = batches.pop(0)
            refused = store.write_lines(lines)
            assert not refused, refused

    threads = [threading.Thread(target=post) for _ in range(SHIPPED.writers)]
    start = time.perf_counter()  # the ceiling: posting line protocol, nothing else
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    store.http.close()
    return n / elapsed


def cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


class Gateway:
    """A publisher of envelopes that records end-to-end acks."""

    def __init__(self, broker: Mosquitto) -> None:
        self.topics = Topics("bench")
        self.acked: set[int] = set()
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-gw", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(self.topics.ack(GATEWAY), qos=1)

    def _on_message(self, c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.acked.update(decode_ack(msg.payload).seqs)

    @staticmethod
    def envelopes(seq0: int, rs: list[Reading]) -> list[bytes]:
        sent = int(time.time() * 1000)
        return [
            encode(Envelope(GATEWAY, seq0 + k, sent, tuple(rs[i : i + PER_ENVELOPE])))
            for k, i in enumerate(range(0, len(rs), PER_ENVELOPE))
        ]

    def publish(self, seq0: int, payloads: list[bytes]) -> int:
        for payload in payloads:
            self.client.publish(self.topics.uplink(GATEWAY), payload, qos=1)
        return seq0 + len(payloads)

    def wait_acked(self, upto: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len([s for s in self.acked if s < upto]) >= upto:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def count(influxd: Influxd, db: str, since_ms: int = 0) -> int:
    q = f"SELECT count(value) FROM readings WHERE time >= {int(since_ms) * 1_000_000}"  # noqa: S608 (an integer)
    series = influxd.query(q, db)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def start_ingest(workdir: Path, doc: dict[str, Any]) -> subprocess.Popen[bytes]:
    """The ingest as deployed: its own process, ``ville-autonome ingest --config FILE``."""
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(doc))
    log = (workdir / "ingest.log").open("ab")
    argv = [
        sys.executable,
        "-m",
        "ville_autonome.commands.main",
        "--log-level",
        "ERROR",
        "ingest",
        "--config",
        str(path),
    ]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    log.close()
    return proc


def wait_ready(gw: Gateway, timeout: float = 60) -> None:
    """Probe envelope (seq 0, one reading) re-sent until acknowledged: the ingest is subscribed."""
    deadline = time.monotonic() + timeout
    probe = gw.envelopes(0, readings(1, int(time.time() * 1000) - 3 * 86_400_000))
    while time.monotonic() < deadline:
        gw.publish(0, probe)
        if gw.wait_acked(1, timeout=1.0):
            return
    raise RuntimeError("the ingest did not come up")


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return (
        f"median {fmt.format(statistics.median(values))} (min {fmt.format(min(values))}, max {fmt.format(max(values))})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=500_000, help="readings per run and side")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--outage-s", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    n = args.readings
    print(
        f"shipped settings: ingest batch {SHIPPED.batch_size}, interval {SHIPPED.batch_interval_s:g} s, "
        f"{SHIPPED.writers} writers; envelopes of {PER_ENVELOPE} readings; {n:,} readings per run and side"
    )
    with tempfile.TemporaryDirectory(prefix="va-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")  # runs with the shipped queue settings
        influxd = Influxd(work / "influxd")
        broker.start()
        influxd.start()
        assert influxd.proc is not None
        db_proc = psutil.Process(influxd.proc.pid)
        ingest: subprocess.Popen[bytes] | None = None
        gw: Gateway | None = None
        try:
            settings = StoreSettings(backend="influxdb", url=influxd.url, database="e2e", timeout_s=5)
            doc = topology_doc(broker.url, settings)
            ingest = start_ingest(work, doc)
            gw = Gateway(broker)
            wait_ready(gw)
            cpu = psutil.Process(ingest.pid)
            raws, e2es, ratios, db_raw, db_e2e, ingest_us, losses = [], [], [], [], [], [], []
            seq = 1
            for run in range(args.runs):
                t0 = int(time.time() * 1000) - (30 + 2 * run) * 86_400_000  # a day of its own, each run and side
                d0 = cpu_s(db_proc)
                raw = ceiling(influxd, f"ceiling{run}", n, t0)
                db_raw.append((cpu_s(db_proc) - d0) / n * 1e6)
                payloads = gw.envelopes(seq, readings(n, t0 + 86_400_000))  # encoded before the clock starts
                c0, d0 = sum(cpu.cpu_times()[:2]), cpu_s(db_proc)
                start = time.perf_counter()
                first = seq
                seq = gw.publish(seq, payloads)
                ok = gw.wait_acked(seq, timeout=600)
                elapsed = time.perf_counter() - start
                ingest_us.append(1e6 * (sum(cpu.cpu_times()[:2]) - c0) / n)
                db_e2e.append((cpu_s(db_proc) - d0) / n * 1e6)
                stored = count(influxd, "e2e", t0 + 86_400_000) - count(influxd, "e2e", t0 + 2 * 86_400_000)
                losses.append(n - stored)
                e2e = n / elapsed
                raws.append(raw)
                e2es.append(e2e)
                ratios.append(e2e / raw)
                print(
                    f"run {run + 1}   ceiling {raw:,.0f} points/s; end to end {e2e:,.0f} readings/s (envelopes "
                    f"{first}–{seq - 1}, all acknowledged: {ok}); ratio {e2e / raw:.2f}; influxd "
                    f"{db_raw[-1]:.2f} / {db_e2e[-1]:.2f} CPU-s per million readings (ceiling / end to end); "
                    f"ingest {ingest_us[-1]:.1f} µs CPU per reading; loss {n - stored}; load {os.getloadavg()[0]:.1f}"
                )
            print(
                f"ceiling   raw line protocol, batch {SHIPPED.batch_size}, {SHIPPED.writers} connections: {spread(raws)} points/s"
            )
            print(f"end2end   gateway → MQTT → ingest process → InfluxDB, shipped settings: {spread(e2es)} readings/s")
            print(f"ratio     end2end / ceiling: {spread(ratios, '{:.2f}')} (target ≥ 0.6)")
            print(
                f"influxd   CPU-s per million readings: ceiling {spread(db_raw, '{:.2f}')}, end to end "
                f"{spread(db_e2e, '{:.2f}')}"
            )
            print(
                f"ingest    {spread(ingest_us, '{:.1f}')} µs CPU per reading (one process is bound by one core: add "
                f"workers with --shared-group to scale); load average {os.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs"
            )
            print(f"loss      {sum(losses)} of {n * args.runs} readings")
            expected = n * args.runs + 1
            t0 = int(time.time() * 1000) - 2 * 86_400_000
            # memory under a store outage: the broker holds the backlog, the ingest holds max_pending
            proc = psutil.Process(ingest.pid)
            rss0 = proc.memory_info().rss
            influxd.stop()
            outage_start = time.monotonic()
            seq_before = seq
            peak = rss0
            rate = 2000  # readings/s published during the outage (a busy city)
            second = 0
            while time.monotonic() - outage_start < args.outage_s:
                tick = time.monotonic()
                seq = gw.publish(seq, gw.envelopes(seq, readings(rate, t0 + second * 1000 * 40)))
                peak = max(peak, proc.memory_info().rss)
                second += 1
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
            influxd.start()
            recovered_start = time.monotonic()
            recovered = gw.wait_acked(seq, timeout=600)
            backlog = (seq - seq_before) * PER_ENVELOPE
            lost = expected + backlog - count(influxd, "e2e")
            print(
                f"outage    {args.outage_s:.0f} s with {backlog:,} readings published meanwhile: ingest RSS "
                f"{rss0 / 2**20:.0f} MiB before, peak {peak / 2**20:.0f} MiB (bound: max_pending_messages="
                f"{doc['services']['ingest']['max_pending_messages']} messages); recovered by itself: {recovered} "
                f"in {time.monotonic() - recovered_start:.1f} s; loss {lost}"
            )
        finally:
            if gw is not None:
                gw.close()
            if ingest is not None:
                ingest.send_signal(signal.SIGTERM)
                try:
                    ingest.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    ingest.kill()
                    ingest.wait()
            influxd.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
