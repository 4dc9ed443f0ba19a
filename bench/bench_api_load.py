"""The API under load on InfluxDB (not collected by pytest): ``python bench/bench_api_load.py``.

Setup (real parts, on loopback): influxd 1.6 in a temporary directory; the Amiens configuration;
the last ``--history-days`` days of its simulators' backfill written; then, for the whole run, a
writer standing in for the ingest (every device's readings of the current second, written each
second as the ingest writes them: raw points and rollup marks) and the rollup compiler with its
day balances (``ville-autonome rollups``' service at the shipped cadence) in threads of this
process; the API (the real app under uvicorn) in a process of its own, so that its CPU is its own.

Two phases in the same run:

1. baseline: one client and one stream — ``GET /api/v1/live`` and ``GET /api/v1/autonomy`` (the city,
   the last seven days, 15 min) one after the other;
2. load: ``--clients`` clients doing the same back to back while ``--dashboards`` streams
   (``GET /api/v1/stream``, as a dashboard page opens it) stay open.

Prints per endpoint: requests, errors (5xx, other statuses, connection failures), latency
p50/p95/p99 and the ratio of the loaded p95 to the baseline's; for the streams: opened, events
received, closed before the end; the CPU of the API process and of influxd (cores) in each phase,
and the load average. Targets (issue 18): zero 5xx, no stream closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_autonomy import KEY, config_with_key  # noqa: E402 (after the sys.path line: bench and tests.support live at the repository root)
from tests.support.ports import free_port  # noqa: E402 (after the sys.path line)
from tests.support.services import Influxd  # noqa: E402 (after the sys.path line)
from tests.support.waiting import wait_for  # noqa: E402 (after the sys.path line)
from ville_autonome.configuration.services import StoreSettings  # noqa: E402 (after the sys.path line)
from ville_autonome.configuration.topology import PlatformConfig  # noqa: E402 (after the sys.path line)
from ville_autonome.readings.model import DeviceContext, StoredReading  # noqa: E402 (after the sys.path line)
from ville_autonome.rollups.balances import BalanceCompiler  # noqa: E402 (after the sys.path line)
from ville_autonome.rollups.service import RollupCompiler  # noqa: E402 (after the sys.path line)
from ville_autonome.simulators.backfill import generate  # noqa: E402 (after the sys.path line)
from ville_autonome.storage.base import Store  # noqa: E402 (after the sys.path line
from ville_autonome.storage.factory import open_store  # noqa: E402 (after the sys.path line)

log = logging.getLogger("bench_api_load")
DAY_MS = 86_400_000


def contexts(config: PlatformConfig) -> dict[str, DeviceContext]:
    return {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}


def fill_history(store: Store, config: PlatformConfig, days: int, now: int) -> int:
    """The simulators' backfill of the last ``days`` days at 15 min, in 5,000-point batches."""
    ctx = contexts(config)
    start = (now - days * DAY_MS) // 900_000 * 900_000
    batch: list[StoredReading] = []
    n = 0
    for r in generate(config, start, now // 900_000 * 900_000, 900):
        batch.append(StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality))
        if len(batch) >= 5000:
            n += store.write(batch).written
            batch = []
    return n + (store.write(batch).written if batch else 0)


def live_writer(store: Store, config: PlatformConfig, stop: threading.Event) -> None:
    """Every device's readings of the current second, each second (the ingest's role)."""
    ctx = contexts(config)
    while not stop.is_set():
        t = int(time.time()) * 1000
        now = [r for r in generate(config, t, t + 1000, 1) if r.ts_ms == t]
        store.write([StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality) for r in now])
        stop.wait(max(0.0, (t + 1000) / 1000 - time.time()))


def serve_api(config: PlatformConfig, store_url: str, port: int) -> None:
    """The API process: the real app on ``port`` (run in a forked child)."""
    import uvicorn

    from ville_autonome.dashboard_api.main import create_app

    store = open_store(StoreSettings(backend="influxdb", url=store_url, database="load"))
    uvicorn.run(create_app(config, store), host="127.0.0.1", port=port, log_level="warning")


@dataclass
class Calls:
    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)

    def record(self, name: str, seconds: float, error: str | None) -> None:
        self.latency.setdefault(name, []).append(seconds)
        if error is not None:
            self.errors.setdefault(name, Counter())[error] += 1


@dataclass
class Streams:
    opened: int = 0
    events: int = 0
    closed_early: Counter[str] = field(default_factory=Counter)


ENDPOINTS = {
    "live": ("/api/v1/live", {}),
    "autonomy": ("/api/v1/autonomy", {"scope": "city", "interval": "15m"}),
}


async def client_loop(client: httpx.AsyncClient, calls: Calls, until: float) -> None:
    while time.monotonic() < until:
        for name, (path, params) in ENDPOINTS.items():
            query = dict(params)
            if name == "autonomy":
                end = int(time.time() * 1000) // 900_000 * 900_000
                query |= {"start": str(end - 7 * DAY_MS), "end": str(end)}
            t0 = time.perf_counter()
            error: str | None = None
            try:
                r = await client.get(path, params=query)
                if r.status_code >= 400:
                    error = str(r.status_code)
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            calls.record(name, time.perf_counter() - t0, error)


async def dashboard(client: httpx.AsyncClient, streams: Streams, until: float) -> None:
    try:
        async with client.stream("GET", "/api/v1/stream", params={"api_key": KEY}) as r:
            if r.status_code != 200:
                streams.closed_early[f"status {r.status_code}"] += 1
                return
            streams.opened += 1
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    streams.events += 1
                if time.monotonic() >= until:
                    return
            streams.closed_early["closed by the server"] += 1
    except httpx.HTTPError as exc:
        if time.monotonic() < until:
            streams.closed_early[type(exc).__name__] += 1


async def phase(base: str, clients: int, dashboards: int, seconds: float) -> tuple[Calls, Streams]:
    calls, streams = Calls(), Streams()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + dashboards + 10)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers, limits=limits) as client:
        tasks = [asyncio.create_task(dashboard(client, streams, until)) for _ in range(dashboards)]
        tasks += [asyncio.create_task(client_loop(client, calls, until)) for _ in range(clients)]
        await asyncio.gather(*tasks)
    return calls, streams


class Cpu:
    """Cores used by some processes between ``start()`` and ``stop()``."""

    def __init__(self, **pids: int) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._cpu0 = {n: _cpu(p) for n, p in self.procs.items()}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        return {n: (_cpu(p) - self._cpu0[n]) / wall for n, p in self.procs.items()}


def _cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, int(q * (len(s) - 1)))] if s else float("nan")


def report(label: str, calls: Calls, streams: Streams, cpu: dict[str, float], base: Calls | None) -> None:
    for name in ENDPOINTS:
        lat = calls.latency.get(name, [])
        errors = calls.errors.get(name, Counter())
        five = sum(v for k, v in errors.items() if k.startswith("5"))
        ratio = ""
        if base is not None and base.latency.get(name):
            ratio = f", p95 {pct(lat, 0.95) / pct(base.latency[name], 0.95):.1f}x the baseline's"
        print(
            f"{label:9} {name:9} {len(lat):6d} requests, 5xx {five}, other errors {dict(errors - Counter({k: v for k, v in errors.items() if k.startswith('5')}))}; "
            f"p50 {pct(lat, 0.5):.0f} ms, p95 {pct(lat, 0.95):.0f} ms, p99 {pct(lat, 0.99):.0f} ms{ratio}"
        )
    if streams.opened or streams.closed_early:
        print(
            f"{label:9} streams   {streams.opened} opened, {streams.events} events, closed early {dict(streams.closed_early)}"
        )
    print(
        f"{label:9} CPU       API {cpu['api']:.2f} core, influxd {cpu['influxd']:.2f} core, this process "
        f"(writer, compiler, clients) {cpu['bench']:.2f} core; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--history-days", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = config_with_key()
    api_settings = config.services.api.model_copy(update={"rate_limit_per_minute": 1_000_000})  # load, not the limiter
    config = config.model_copy(update={"services": config.services.model_copy(update={"api": api_settings})})
    with contextlib.ExitStack() as stack:
        influxd = Influxd(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="va-bench-"))))
        influxd.start()
        stack.callback(influxd.stop)
        store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database="load"))
        stack.callback(store.close)
        t = time.perf_counter()
        n = fill_history(store, config, args.history_days, int(time.time() * 1000))
        compiler = RollupCompiler(store, interval_s=30, name="bench", balances=BalanceCompiler(store, config))
        compiler.run_pass(budget_s=None)
        print(
            f"history   {n} readings of {args.history_days} days written and compiled in {time.perf_counter() - t:.0f} s"
        )
        stop = threading.Event()
        threads = [
            threading.Thread(target=live_writer, args=(store, config, stop), daemon=True),
            threading.Thread(target=compiler.run, args=(stop,), daemon=True),
        ]
        for th in threads:
            th.start()
        port = free_port()
        api = multiprocessing.get_context("fork").Process(target=serve_api, args=(config, influxd.url, port))
        api.start()
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: httpx.get(f"{base}/api/v1/health", timeout=2).status_code < 500,
                timeout=60,
                retry_on=(httpx.HTTPError,),
                what="the API",
            )
            if api.pid is None:
                raise SystemExit("the API process did not start")
            cpu = Cpu(api=api.pid, influxd=influxd.proc.pid, bench=os.getpid())
            cpu.start()
            b_calls, b_streams = asyncio.run(phase(base, 1, 1, args.seconds / 2))
            b_cpu = cpu.stop()
            print(
                f"{args.clients} clients, {args.dashboards} dashboards on InfluxDB 1.6, {args.seconds:g} s; "
                f"{len(list(config.devices()))} devices written each second, rollup compiler running"
            )
            report("baseline", b_calls, b_streams, b_cpu, None)
            cpu.start()
            calls, streams = asyncio.run(phase(base, args.clients, args.dashboards, args.seconds))
            report("load", calls, streams, cpu.stop(), b_calls)
        finally:
            stop.set()
            api.terminate()
            api.join(20)
            for th in threads:
                th.join(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
