"""Ingest benchmark: raw line-protocol write throughput to InfluxDB (the ceiling) against end-to-end
MQTT → ingest → InfluxDB throughput, same machine; then memory under a store outage.

    .venv/bin/python bench/bench_ingest.py [--readings 500000] [--runs 3] [--outage-s 60]
        [--writers N] [--batch-size N] [--batch-interval S] [--envelope N] [--workers N]

Fair by construction: the ingest runs as deployed (its own process, ``ville-autonome ingest``)
with the shipped ``IngestSettings()`` (batch size, interval, writers), fed envelopes of the
gateway's shipped ``max_batch``; the ceiling posts the same points as ready-made line protocol in
batches of the same size over as many connections as the ingest writes over. Each run measures
both on a fresh database, each side once influxd is quiet, its CPU counted until quiet again
(a side's compactions billed to it): rates, ratio, influxd's CPU per million readings on each
side (what the ingest's extra writes cost), load average; then median and spread (min–max).
Starts its own Mosquitto and influxd on free loopback ports. Target: ≥ 0.6, zero loss, as shipped.

Options change one setting to see whether the shipped one is right (the first line printed names
what differs). ``--workers N``: N ingest processes on a shared subscription (``--shared-group``),
the ceiling over N × writers connections: the ingest's scaling, not its shipped configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu_meter import CpuMeter  # noqa: E402 (after the sys.path line)
from bench.ingest_publisher import GATEWAY, Gateway  # noqa: E402 (after the sys.path line)
from tests.support.services import Influxd, Mosquitto  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.configuration.services import IngestSettings, StoreSettings  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.configuration.topology import GatewayConfig  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.influx_wire.reading_lines import reading_line  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.readings.model import DeviceContext, Reading, StoredReading  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.storage.factory import open_store  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)
from ville_autonome.storage.influx_store import InfluxStore  # noqa: E402 (after the sys.path line: tests.support lives at the repository root)

DEVICES = [f"dev-{i:03d}" for i in range(50)]
SHIPPED_ENVELOPE = int(GatewayConfig.model_fields["max_batch"].default)  # readings per envelope, as a gateway sends


@dataclass(frozen=True)
class Setup:
    """What is measured: the ingest's settings, the envelopes' size and the number of workers."""

    ingest: IngestSettings
    per_envelope: int = SHIPPED_ENVELOPE
    workers: int = 1

    @property
    def connections(self) -> int:  # the ingest writes over these, hence the ceiling too
        return self.workers * self.ingest.writers

    def describe(self) -> str:
        s, shipped = self.ingest, IngestSettings()
        mine = {"batch size": s.batch_size, "interval": s.batch_interval_s, "writers": s.writers}
        mine |= {"workers": self.workers, "envelope": self.per_envelope}
        theirs = {"batch size": shipped.batch_size, "interval": shipped.batch_interval_s, "writers": shipped.writers}
        theirs |= {"workers": 1, "envelope": SHIPPED_ENVELOPE}
        changed = [k for k in mine if mine[k] != theirs[k]]
        text = (
            f"ingest batch {s.batch_size}, interval {s.batch_interval_s:g} s, {s.writers} writers, "
            f"{self.workers} worker(s); envelopes of {self.per_envelope} readings"
        )
        return f"{'NOT the shipped settings (' + ', '.join(changed) + ')' if changed else 'shipped settings'}: {text}"


def topology_doc(mqtt_url: str, store: StoreSettings, setup: Setup) -> dict[str, Any]:
    return {
        "city": {"id": "bench"},
        "services": {
            "mqtt": {"url": mqtt_url, "topic_root": "bench"},
            "store": store.model_dump(mode="json", exclude_none=True),
            "ingest": setup.ingest.model_copy(update={"client_id": "bench-ingest"}).model_dump(),
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


def ceiling(influxd: Influxd, database: str, n: int, t0: int, setup: Setup) -> float:
    """Readings/s of posting the same points as ready-made line protocol, batches of the ingest's
    size over as many connections as it writes over (threads: one connection each)."""
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=database))
    assert isinstance(store, InfluxStore)
    ctx = {d: DeviceContext("d", "s", d, "consumption", "") for d in DEVICES}
    points = [StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value) for r in readings(n, t0)]
    size = setup.ingest.batch_size
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

    threads = [threading.Thread(target=post) for _ in range(setup.connections)]
    start = time.perf_counter()  # the ceiling: posting line protocol, nothing else
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    store.http.close()
    return n / elapsed


def cpu_s(*procs: psutil.Process) -> float:
    return sum(float(t.user + t.system) for t in (p.cpu_times() for p in procs))


def settle(db: psutil.Process, limit_s: float = 20.0) -> None:
    """Wait until influxd is quiet (under 5 % of a core over half a second; at most ``limit_s``),
    so that what a side left to do (cache snapshots, compactions) is not billed to the next."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        c0 = cpu_s(db)
        time.sleep(0.5)
        if cpu_s(db) - c0 < 0.025:
            return


def count(influxd: Influxd, db: str, since_ms: int, until_ms: int) -> int:
    """Readings stored in [since_ms, until_ms)."""
    where = f"time >= {int(since_ms) * 1_000_000} AND time < {int(until_ms) * 1_000_000}"
    q = f"SELECT count(value) FROM readings WHERE {where}"  # noqa: S608 (integers)
    series = influxd.query(q, db)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def start_ingest(workdir: Path, doc: dict[str, Any], workers: int) -> list[subprocess.Popen[bytes]]:
    """The ingest as deployed: its own process, ``ville-autonome ingest --config FILE``; with
    several workers, each with its client id on the shared subscription ``$share/bench/…``."""
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(doc))
    procs = []
    for i in range(workers):
        argv = [sys.executable, "-m", "ville_autonome.commands.main", "--log-level", "ERROR", "ingest"]
        argv += ["--config", str(path)]
        if workers > 1:
            argv += ["--client-id", f"bench-ingest-{i}", "--shared-group", "bench"]
        log = (workdir / f"ingest-{i}.log").open("ab")
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT)))
        log.close()
    return procs


def wait_ready(gw: Gateway, broker: Mosquitto, procs: list[psutil.Process], timeout: float = 60) -> None:
    """Every worker connected to the broker, then a probe envelope (seq 0, one reading) re-sent
    until acknowledged: the ingest is subscribed."""
    deadline = time.monotonic() + timeout

    def connected(p: psutil.Process) -> bool:
        return any(c.raddr and c.raddr.port == broker.port for c in p.net_connections("tcp"))

    while not all(connected(p) for p in procs):
        if time.monotonic() > deadline:
            raise RuntimeError("the ingest did not connect")
        time.sleep(0.2)
    probe = gw.envelopes(0, readings(1, int(time.time() * 1000) - 3 * 86_400_000))
    while time.monotonic() < deadline:
        gw.publish(0, probe)
        if gw.wait_acked(1, timeout=1.0):
            time.sleep(1.0 if len(procs) > 1 else 0.0)  # the other members' subscriptions too
            return
    raise RuntimeError("the ingest did not come up")


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return (
        f"median {fmt.format(statistics.median(values))} (min {fmt.format(min(values))}, max {fmt.format(max(values))})"
    )


def arguments() -> tuple[argparse.Namespace, Setup]:
    shipped = IngestSettings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--readings", type=int, default=500_000, help="readings per run and side")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=shipped.writers, help="ingest writers (and ceiling connections)")
    parser.add_argument("--batch-size", type=int, default=shipped.batch_size, help="ingest batch (and ceiling batch)")
    parser.add_argument("--batch-interval", type=float, default=shipped.batch_interval_s, help="ingest batch interval")
    parser.add_argument("--envelope", type=int, default=SHIPPED_ENVELOPE, help="readings per envelope")
    parser.add_argument("--workers", type=int, default=1, help="ingest processes on a shared subscription")
    args = parser.parse_args()
    settings = shipped.model_copy(
        update={"writers": args.writers, "batch_size": args.batch_size, "batch_interval_s": args.batch_interval}
    )
    return args, Setup(settings, args.envelope, args.workers)


def main() -> int:
    args, setup = arguments()
    logging.basicConfig(level=logging.ERROR)
    n = args.readings
    print(f"{setup.describe()}; {n:,} readings per run and side")
    with tempfile.TemporaryDirectory(prefix="va-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")  # runs with the shipped queue settings
        influxd = Influxd(work / "influxd")
        broker.start()
        influxd.start()
        assert influxd.proc is not None
        assert broker.proc is not None
        db_proc = psutil.Process(influxd.proc.pid)
        ingest: list[subprocess.Popen[bytes]] = []
        gw: Gateway | None = None
        try:
            settings = StoreSettings(backend="influxdb", url=influxd.url, database="e2e", timeout_s=5)
            doc = topology_doc(broker.url, settings, setup)
            ingest = start_ingest(work, doc, setup.workers)
            workers = [psutil.Process(p.pid) for p in ingest]
            gw = Gateway(broker, setup.per_envelope)
            wait_ready(gw, broker, workers)
            raws, e2es, ratios, db_raw, db_e2e, ingest_us, losses = [], [], [], [], [], [], []
            shares: list[dict[str, float]] = []  # cores of each part while the end-to-end side ran
            meter = CpuMeter(
                {"ingest": [p.pid for p in ingest], "influxd": [influxd.proc.pid], "broker": [broker.proc.pid]}
                | {"publisher": [os.getpid()]},
                alone=frozenset({"publisher"}),
            )
            seq = 1
            span_days = 1 + n // (len(DEVICES) * 86_400)  # whole days the readings of one side span
            for run in range(args.runs):
                # days of its own, each run and side (the e2e side's count reads only its own)
                t0 = int(time.time() * 1000) - (30 + 2 * span_days * run) * 86_400_000
                settle(db_proc)
                d0 = cpu_s(db_proc)
                raw = ceiling(influxd, "ceiling", n, t0, setup)
                settle(db_proc)  # influxd's CPU of a side includes what it left to do (snapshots, compactions)
                db_raw.append((cpu_s(db_proc) - d0) / n * 1e6)
                first_ms = t0 + span_days * 86_400_000  # the e2e side's readings: one per device and second
                payloads = gw.envelopes(seq, readings(n, first_ms))  # encoded before the clock starts
                c0, d0, parts0 = cpu_s(*workers), cpu_s(db_proc), meter.snapshot()
                start = time.perf_counter()
                first = seq
                seq = gw.publish(seq, payloads)
                ok = gw.wait_acked(seq, timeout=600)
                elapsed = time.perf_counter() - start
                shares.append(CpuMeter.cores(parts0, meter.snapshot(), elapsed))
                ingest_us.append(1e6 * (cpu_s(*workers) - c0) / n)
                settle(db_proc)
                db_e2e.append((cpu_s(db_proc) - d0) / n * 1e6)
                stored = count(influxd, "e2e", first_ms, first_ms + (n // len(DEVICES) + 1) * 1000)
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
                print("        end to end, cores: " + ", ".join(f"{k} {v:.2f}" for k, v in shares[-1].items()))
            print(
                f"ceiling   raw line protocol, batch {setup.ingest.batch_size}, {setup.connections} connections: "
                f"{spread(raws)} points/s"
            )
            print(f"end2end   gateway → MQTT → ingest → InfluxDB, {setup.describe()}: {spread(e2es)} readings/s")
            print(f"ratio     end2end / ceiling: {spread(ratios, '{:.2f}')} (target ≥ 0.6 with the shipped settings)")
            print(
                f"influxd   CPU-s per million readings: ceiling {spread(db_raw, '{:.2f}')}, end to end "
                f"{spread(db_e2e, '{:.2f}')}"
            )
            print(
                f"ingest    {spread(ingest_us, '{:.1f}')} µs CPU per reading ({setup.workers} process(es); one process "
                f"is bound by one core: add workers with --shared-group to scale); load average "
                f"{os.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs"
            )
            print(f"loss      {sum(losses)} of {n * args.runs} readings")
            outage(influxd, gw, workers, seq, n * args.runs + 1, args.outage_s, doc)
        finally:
            if gw is not None:
                gw.close()
            for p in ingest:
                stop(p)
            influxd.stop()
            broker.stop()
    return 0


def outage(
    influxd: Influxd, gw: Gateway, workers: list[psutil.Process], seq: int, expected: int, seconds: float, doc: Any
) -> None:
    """Memory under a store outage: the broker holds the backlog, the ingest holds max_pending."""
    t0 = int(time.time() * 1000) - 2 * 86_400_000

    def rss() -> int:
        return sum(p.memory_info().rss for p in workers)

    rss0 = peak = rss()
    influxd.stop()
    outage_start = time.monotonic()
    seq_before = seq
    rate = 2000  # readings/s published during the outage (a busy city)
    second = 0
    while time.monotonic() - outage_start < seconds:
        tick = time.monotonic()
        seq = gw.publish(seq, gw.envelopes(seq, readings(rate, t0 + second * 1000 * 40)))
        peak = max(peak, rss())
        second += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    influxd.start()
    recovered_start = time.monotonic()
    recovered = gw.wait_acked(seq, timeout=600)
    backlog = (seq - seq_before) * gw.per_envelope
    lost = expected + backlog - count(influxd, "e2e", 0, int(time.time() * 1000))
    print(
        f"outage    {seconds:.0f} s with {backlog:,} readings published meanwhile: ingest RSS "
        f"{rss0 / 2**20:.0f} MiB before, peak {peak / 2**20:.0f} MiB (bounds: max_pending_messages="
        f"{doc['services']['ingest']['max_pending_messages']} messages, max_pending_bytes="
        f"{doc['services']['ingest']['max_pending_bytes'] / 2**20:.0f} MiB); recovered by itself: {recovered} "
        f"in {time.monotonic() - recovered_start:.1f} s; loss {lost}"
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    proc.kill()
    proc.wait()


if __name__ == "__main__":
    sys.exit(main())
