"""Dashboards benchmark: live push latency from a reading's time to the browser, with 1 and 100 open
dashboards, on the real platform (simulators → gateways → Mosquitto → ingest → store → API → SSE).

    .venv/bin/python bench/bench_dashboards.py [--store sqlite|influxdb] [--seconds 60] [--cadence shipped|live|both]

Starts its own Mosquitto (and influxd for ``--store influxdb``) on free loopback ports, and the
platform's own commands as child processes on the Amiens configuration (ports moved by a free
offset): ``simulate``, ``gateway --all``, ``ingest``, ``api``. Each dashboard is one event stream
(``GET /api/v1/stream``, what the page opens); the latency of a ``reading`` event is its arrival
time minus the reading's time (the gateway's poll stamp), on the same clock. Readings of the
stream's first snapshot are not counted. Of N open streams, ``PROBES`` parse their events and
time them; the others are read by one thread that discards the bytes (the server writes every
event to every socket all the same): 100 parsing readers in one Python process measure the
client's own backlog, not the platform.

Cadences: ``shipped`` runs the configuration as shipped (gateways publish every
``publish_interval_s`` = 1 s, the ingest writes every ``batch_interval_s`` = 1 s); ``live`` runs
both at 0.25 s. Prints, per cadence and number of dashboards:
p50/p95/p99 latency, events and errors, the CPU of the API, ingest, gateways and store (influxd;
SQLite lives inside the API and ingest processes), and the load average; then the in-run ratios
of the largest number of dashboards against the first (the baseline, 1 dashboard by default):
p95 latency and API CPU, measured in the same run on the same platform. No target is asserted
here: the figures go to docs/dashboard.md ("Performance").
"""

from __future__ import annotations

import argparse
import os
import random
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboard_api.sse import SseReader  # noqa: E402 (after the sys.path line: tests lives at the repository root)
from tests.support.processes import CommandProcess  # noqa: E402 (idem)
from tests.support.services import Influxd, Mosquitto  # noqa: E402 (idem)
from tests.support.waiting import wait_for  # noqa: E402 (idem)
from ville_autonome.commands.port_offset import with_port_offset  # noqa: E402 (idem)
from ville_autonome.configuration import load_config_text  # noqa: E402 (idem)
from ville_autonome.dashboard_api.deps import digest  # noqa: E402 (idem)

KEY = "bench-viewer-key-0001"
PROBES = 3  # streams whose events are parsed and timed
CADENCES = {"shipped": (None, None), "live": (0.25, 0.25)}  # (gateway publish_interval_s, ingest batch_interval_s)


def free_offset() -> int:
    """A port offset that moves every Modbus port of the configuration onto free ports."""
    base = load_config_text((ROOT / "config" / "amiens.yaml").read_text(), environ={})
    ports = [int(dev.address.rpartition(":")[2]) for _, _, dev in base.devices() if dev.protocol == "modbus-tcp"]
    for _ in range(200):
        offset = random.randrange(10_000, 40_000, 100)
        if all(_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port offset found")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def config_file(work: Path, mqtt_url: str, store: dict[str, Any], offset: int, cadence: str) -> tuple[Path, int]:
    base = load_config_text((ROOT / "config" / "amiens.yaml").read_text(), environ={})
    cfg = with_port_offset(base, offset)
    doc = cfg.model_dump(mode="json", exclude_none=True)
    api_port = _port()
    doc["services"]["mqtt"] = {"url": mqtt_url, "topic_root": f"bench{offset}"}
    doc["services"]["store"] = store
    doc["services"]["api"].update(
        {"port": api_port, "keys": [{"name": "bench", "role": "viewer", "sha256": digest(KEY)}]}
    )
    doc["services"]["api"]["rate_limit_per_minute"] = 100_000
    publish, batch = CADENCES[cadence]
    if batch is not None:
        doc["services"]["ingest"]["batch_interval_s"] = batch
    for gw in doc["gateways"]:
        gw["buffer_path"] = str(work / f"{gw['id']}.buffer.sqlite")
        if publish is not None:
            gw["publish_interval_s"] = publish
    path = work / f"bench-{cadence}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path, api_port


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu(procs: dict[str, psutil.Process]) -> dict[str, float]:
    out = {}
    for name, p in procs.items():
        try:
            t = p.cpu_times()
            out[name] = t.user + t.system + sum(c.cpu_times().user + c.cpu_times().system for c in p.children(True))
        except psutil.NoSuchProcess:
            out[name] = float("nan")
    return out


class Drain:
    """``n`` open streams read by one thread that discards what arrives (counting the bytes)."""

    def __init__(self, url: str, n: int) -> None:
        parts = urlsplit(url)
        self.selector = selectors.DefaultSelector()
        self.flows: set[int] = set()  # the streams that received a `flows` event
        self.bytes = 0
        self.closed = 0
        request = (
            f"GET /api/v1/stream?api_key={KEY}&autonomy_every_s=3600 HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        for i in range(n):
            sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30)
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, i)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drain", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    self.selector.unregister(sock)
                    self.closed += 1
                    continue
                self.bytes += len(data)
                if b"event: flows" in data:
                    self.flows.add(key.data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()


def measure(url: str, n: int, seconds: float, procs: dict[str, psutil.Process]) -> dict[str, Any]:
    probes = min(n, PROBES)
    readers = [SseReader(f"{url}/api/v1/stream", {"api_key": KEY, "autonomy_every_s": "3600"}) for _ in range(probes)]
    for r in readers:
        r.__enter__()
    drain = Drain(url, n - probes)
    try:
        wait_for(
            lambda: all(r.named("flows") for r in readers) and len(drain.flows) == n - probes,
            timeout=120,
            interval=0.2,
            what=f"{n} streams open",
        )
        start = time.time()
        cpu0, t0 = cpu(procs), time.monotonic()
        load0 = os.getloadavg()[0]
        time.sleep(seconds)  # the measurement window (a bench, not a test: the duration is the point)
        cpu1, t1 = cpu(procs), time.monotonic()
        end = time.time()
    finally:
        for r in readers:
            r.close()
        drain.close()
    latencies = [
        arrived - data["ts"] / 1000
        for r in readers
        for event, data, arrived in list(r.events)
        if event == "reading" and start <= arrived <= end and data["ts"] / 1000 >= start - 30
    ]
    errors = sum(1 for r in readers if r.error is not None) + sum(len(r.named("error")) for r in readers) + drain.closed
    return {
        "n": n,
        "events": len(latencies),
        "errors": errors,
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "cpu": {k: (cpu1[k] - cpu0[k]) / (t1 - t0) for k in cpu0},
        "load": (load0, os.getloadavg()[0]),
    }


def run_cadence(cadence: str, args: argparse.Namespace, work: Path, broker: Mosquitto, influxd: Influxd | None) -> None:
    offset = free_offset()
    if influxd is not None:
        store = {"backend": "influxdb", "url": influxd.url, "database": f"bench_{cadence}_{offset}"}
    else:
        store = {"backend": "sqlite", "path": str(work / f"bench-{cadence}.sqlite")}
    path, api_port = config_file(work, broker.url, store, offset, cadence)
    env = {"VA_LOG_LEVEL": "WARNING"}
    parts = [
        CommandProcess(f"simulate-{cadence}", ["simulate", "-c", str(path)], workdir=work, env=env),
        CommandProcess(f"ingest-{cadence}", ["ingest", "-c", str(path)], workdir=work, env=env),
        CommandProcess(f"gateway-{cadence}", ["gateway", "--all", "-c", str(path)], workdir=work, env=env),
        CommandProcess(f"api-{cadence}", ["api", "-c", str(path)], workdir=work, env=env),
    ]
    url = f"http://127.0.0.1:{api_port}"
    try:
        for p in parts:
            p.start()
        procs = {p.name.split("-")[0]: psutil.Process(p.proc.pid) for p in parts if p.proc is not None}
        if influxd is not None and influxd.proc is not None:
            procs["influxd"] = psutil.Process(influxd.proc.pid)
        wait_for(lambda: _live(url), timeout=120, interval=0.5, what="live readings through the platform")
        publish, batch = CADENCES[cadence]
        print(
            f"\ncadence {cadence}: gateways publish every {publish or 1.0} s, ingest writes every {batch or 1.0} s, "
            f"API hub tick 0.25 s; store {store['backend']}"
        )
        runs = []
        for n in args.dashboards:
            m = measure(url, n, args.seconds, procs)
            runs.append(m)
            cpu_text = ", ".join(f"{k} {v:.2f}" for k, v in m["cpu"].items())
            print(
                f"  {n:>3} dashboards: push latency p50 {m['p50']:.2f} s  p95 {m['p95']:.2f} s  p99 {m['p99']:.2f} s"
                f"  ({m['events']} readings on {min(n, PROBES)} timed streams, {m['errors']} errors)  CPU [cores] {cpu_text}"
                f"  load {m['load'][0]:.1f}→{m['load'][1]:.1f}"
            )
        if len(runs) > 1:
            base, top = runs[0], runs[-1]
            print(
                f"  ratio {top['n']} / {base['n']} dashboards (same run): p95 latency x{top['p95'] / base['p95']:.2f},"
                f" API CPU x{_ratio(top['cpu'].get('api'), base['cpu'].get('api'))}"
            )
    finally:
        for p in reversed(parts):
            p.stop()


def _ratio(top: float | None, base: float | None) -> str:
    if top is None or base is None or base <= 0:
        return "n/a"
    return f"{top / base:.1f}"


def _live(url: str) -> bool:
    import httpx

    try:
        r = httpx.get(f"{url}/api/v1/live", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and any(v["ts"] > time.time() * 1000 - 5000 for v in r.json()["values"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", choices=["sqlite", "influxdb"], default="sqlite")
    ap.add_argument("--seconds", type=float, default=60.0, help="measurement window per run")
    ap.add_argument("--cadence", choices=["shipped", "live", "both"], default="both")
    ap.add_argument("--dashboards", type=int, nargs="+", default=[1, 100])
    args = ap.parse_args()
    print(f"bench_dashboards: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="va-bench-dash-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        influxd = Influxd(work / "influxd") if args.store == "influxdb" else None
        try:
            if influxd is not None:
                influxd.start()
            for cadence in ("shipped", "live") if args.cadence == "both" else (args.cadence,):
                run_cadence(cadence, args, work, broker, influxd)
        finally:
            if influxd is not None:
                influxd.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
