"""Benchmark of the autonomy engine and API (not collected by pytest): ``python bench/bench_autonomy.py``.

1. A city-year (2026) of the default Amiens scenario at 15-min intervals, from the simulators'
   backfill, stored once in an embedded store (``var/bench/city-year.sqlite``, reused by later
   runs), or with ``--store influxdb`` in a private influxd (filled every run; the writes, and the
   rollups and day balances compiled by the rollup compiler, timed). ``GET /api/v1/autonomy?scope=city``
   over the year through the real app served by uvicorn on a loopback port (HTTP included):
   cold (the app's energy cache emptied before each request: nothing kept in the process) and
   warm, ``--runs`` times each, min/median/max (targets: cold < 1 s, warm < 0.2 s); the answer
   without series (the default) and with ``series=true``. Baseline in the same run: the same cold
   request read from every device's rollups (the store without its day balances), which must
   answer the very same bytes. ``--compile-only`` stops after the writes and the compile;
   ``--profile FILE`` runs the compile under cProfile (in this process) and prints its top.
2. The numpy engine (method 2.0: the battery stock interval by interval, balance closure,
   energy-weighted coverage, the plausibility rules of the reading) against a plain-Python
   reference of the same formulas on the same inputs (target: ≥ 50×), after checking that both
   give the same metrics. Method 1.0's figures on the same machine are in docs/metrics.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import logging
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import psutil
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.autonomy_reference import reference  # noqa: E402
from ville_autonome.autonomy import compute_scope  # noqa: E402
from ville_autonome.autonomy_queries import scope_inputs  # noqa: E402
from ville_autonome.configuration.loader import load_config  # noqa: E402
from ville_autonome.configuration.services import ApiKey, StoreSettings  # noqa: E402
from ville_autonome.configuration.topology import PlatformConfig  # noqa: E402
from ville_autonome.dashboard_api.deps import digest  # noqa: E402
from ville_autonome.dashboard_api.main import create_app  # noqa: E402
from ville_autonome.readings.model import DeviceContext, StoredReading  # noqa: E402
from ville_autonome.rollups.balances import BalanceCompiler  # noqa: E402
from ville_autonome.rollups.service import RollupCompiler  # noqa: E402
from ville_autonome.simulators.backfill import generate  # noqa: E402
from ville_autonome.storage.base import Store  # noqa: E402
from ville_autonome.storage.factory import open_store  # noqa: E402

log = logging.getLogger("bench_autonomy")
START = 1_767_222_000_000  # 2026-01-01T00:00+01:00
END = 1_798_758_000_000  # 2027-01-01T00:00+01:00
KEY = "bench-staff-key-0123456789"
ENGINE_QUANTITIES = {
    "energy_import_wh",
    "energy_export_wh",
    "energy_produced_wh",
    "energy_consumed_wh",
    "energy_charged_wh",
    "energy_discharged_wh",
    "soc_pct",
}


def config_with_key() -> PlatformConfig:
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})
    api = config.services.api.model_copy(update={"keys": [ApiKey(name="bench", role="staff", sha256=digest(KEY))]})
    return config.model_copy(update={"services": config.services.model_copy(update={"api": api})})


def fill(store: Store, config: PlatformConfig) -> int:
    """The backfill's counters (what the engine reads) for the year, in 5 000-point batches (the
    rollups are left to the compiler: ``store.refresh_rollups``)."""
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    batch: list[StoredReading] = []
    n = 0
    for r in generate(config, START - 900_000, END, 900):
        if r.quantity in ENGINE_QUANTITIES:
            batch.append(StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality))
        if len(batch) >= 5000:
            n += store.write(batch).written
            batch = []
    n += store.write(batch).written if batch else 0
    return n


class WithoutBalances:
    """``store`` without its day balances: the reading takes every device from its rollups."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "balance_table":
            raise AttributeError(name)
        return getattr(self._store, name)


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


CPU_S: list[float] = []  # the process's CPU seconds of each request of the last timed_calls


def timed_calls(base: str, app: FastAPI, runs: int, *, cold: bool, series: bool) -> tuple[list[float], bytes]:
    """Seconds of ``runs`` city-year autonomy requests over HTTP (cold: the app's energy cache
    emptied before each), and the last body; the CPU each cost this process (server and client
    threads: what a busy machine cannot shrink by waiting) in :data:`CPU_S`."""
    CPU_S.clear()
    params = {"scope": "city", "start": "2026-01-01", "end": "2027-01-01", "interval": "15m"}
    if series:
        params["series"] = "true"
    out: list[float] = []
    body = b""
    with httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {KEY}"}) as client:
        for _ in range(runs):
            if cold:
                app.state.energy_cache.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get("/api/v1/autonomy", params=params)
            out.append(time.perf_counter() - t0)
            CPU_S.append(time.process_time() - c0)
            r.raise_for_status()
            body = r.content
    return out, body


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f} / median {statistics.median(values):.3f} / max {max(values):.3f} s"


def cpu_s(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


PROFILE: list[str] = []  # where --profile writes the compile's profile


def compile_with_balances(store: Store, config: PlatformConfig, server: psutil.Process | None = None) -> str:
    """:func:`compile_year`, under cProfile with ``--profile``."""
    if not PROFILE:
        return compile_year(store, config, server)
    profile = cProfile.Profile()
    try:
        return profile.runcall(compile_year, store, config, server)
    finally:
        profile.dump_stats(PROFILE[0])
        pstats.Stats(PROFILE[0]).sort_stats("tottime").print_stats(25)


def compile_year(store: Store, config: PlatformConfig, server: psutil.Process | None = None) -> str:
    """Rollups and day balances as the rollup compiler makes them: one pass without a budget, then
    passes until no rollup mark is outstanding (the compiler's cursor stays its settle window behind
    the writes, 15 s on InfluxDB: until it has passed the last write, a reader takes the days those
    marks touch from the rollups). Timed from the end of the writes."""
    me = psutil.Process()
    cpu0 = (cpu_s(me), cpu_s(server) if server is not None else 0.0)
    t = time.perf_counter()
    balances = BalanceCompiler(store, config)
    compiler = RollupCompiler(store, interval_s=30, name="bench", balances=balances)
    if not compiler.run_pass(budget_s=None):
        raise SystemExit("the rollup compiler failed")
    compiled_s = time.perf_counter() - t
    table = balances.table
    while (o := table.outstanding(START - 8 * 86_400_000, END + 86_400_000)).everything or o.by_series or o.any_series:
        if time.perf_counter() - t > 600:
            raise SystemExit("rollup marks still outstanding after 600 s")
        time.sleep(1.0)
        if not compiler.run_pass(budget_s=None):
            raise SystemExit("the rollup compiler failed")
    spent = f"compiler {cpu_s(me) - cpu0[0]:.0f} s CPU, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    if server is not None:
        spent += f", influxd {cpu_s(server) - cpu0[1]:.0f} s CPU"
    return (
        f"{compiler.stats.rollups_written} 15-min rollups and {balances.days_written} day balances "
        f"compiled in {compiled_s:.1f} s, every mark consumed {time.perf_counter() - t:.1f} s after the last write "
        f"({spent}; {load()})"
    )


def open_bench_store(backend: str, stack: contextlib.ExitStack, config: PlatformConfig) -> Store:
    """The year's store: the embedded one in ``var/bench`` (filled once, reused), or a private
    influxd in a temporary directory (filled every run: the writes and the compile are timed)."""
    if backend == "sqlite":
        path = ROOT / "var" / "bench" / "city-year.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        store = open_store(StoreSettings(backend="sqlite", path=str(path)))
        if fresh:
            t = time.perf_counter()
            n = fill(store, config)
            log.info("stored a city-year of counters: %d readings in %.1f s", n, time.perf_counter() - t)
        print(f"FILL {store.ping()}: {compile_with_balances(store, config)}")
        return store
    from tests.support.services import Influxd

    influxd = Influxd(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="va-bench-"))))
    influxd.start()
    stack.callback(influxd.stop)
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database="year"))
    t = time.perf_counter()
    n = fill(store, config)
    written_s = time.perf_counter() - t
    server = psutil.Process(influxd.proc.pid)  # type: ignore[union-attr]
    print(
        f"FILL {store.ping()}: {n} readings written in {written_s:.1f} s ({load()}); "
        f"{compile_with_balances(store, config, server)}"
    )
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "influxdb"), default="sqlite", help="the year's backend")
    parser.add_argument("--runs", type=int, default=5, help="requests per figure (min/median/max)")
    parser.add_argument(
        "--compile-only", action="store_true", help="stop after the year's writes and compile (the FILL line)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the compile (in this process) into FILE (pstats format)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = config_with_key()
    PROFILE[:] = [args.profile] if args.profile else []
    with contextlib.ExitStack() as stack:
        store = open_bench_store(args.store, stack, config)
        try:
            return 0 if args.compile_only else measure(store, config, args.runs)
        finally:
            store.close()


def measure(store: Store, config: PlatformConfig, runs: int) -> int:
    from tests.dashboard_api.serving import serve_in_thread

    app = create_app(config, store)
    plain_app = create_app(config, cast(Store, WithoutBalances(store)))
    with serve_in_thread(app) as base, serve_in_thread(plain_app) as plain_base:
        cold, body = timed_calls(base, app, runs, cold=True, series=False)
        cpu = f"CPU median {statistics.median(CPU_S):.3f} s"
        cold_cpu = statistics.median(CPU_S)
        print(f"API  city-year autonomy over HTTP, cold (no series): {spread(cold)}, {cpu} ({load()}; target < 1 s)")
        warm, _ = timed_calls(base, app, runs, cold=False, series=False)
        cpu = f"CPU median {statistics.median(CPU_S):.3f} s"
        print(f"API  warm (no series): {spread(warm)}, {cpu} ({load()}; target < 0.2 s)")
        cold_s, body_s = timed_calls(base, app, max(2, runs // 2), cold=True, series=True)
        warm_s, _ = timed_calls(base, app, max(2, runs // 2), cold=False, series=True)
        print(
            f"API  with series=true ({len(body_s) / 1e6:.1f} MB): cold {spread(cold_s)}, warm {spread(warm_s)} ({load()})"
        )
        plain, plain_body = timed_calls(plain_base, plain_app, max(2, runs // 2), cold=True, series=False)
        if plain_body != body:
            raise SystemExit("the day balances and the rollups give different autonomy responses")
        print(
            f"API  baseline, the same cold request from every device's rollups (same response): {spread(plain)}, "
            f"CPU median {statistics.median(CPU_S):.3f} s; day balances {statistics.median(plain) / statistics.median(cold):.1f}x "
            f"faster, {statistics.median(CPU_S) / cold_cpu:.1f}x less CPU ({load()})"
        )

    inputs = scope_inputs(store, config, "city", START, END, 900)
    t0 = time.perf_counter()
    for _ in range(runs):
        result = compute_scope(inputs, interval_s=900)
    t_numpy = (time.perf_counter() - t0) / runs
    t0 = time.perf_counter()
    ref = reference(inputs)
    t_python = time.perf_counter() - t0
    for name, value in ref.items():
        mine = getattr(result.metrics, name)
        if not np.isclose(mine, value, rtol=1e-9, atol=1e-12):
            raise SystemExit(f"engine and reference differ on {name}: {mine} vs {value}")
    ss = ref["self_sufficiency"]
    print(
        f"ENGINE numpy {t_numpy * 1000:.1f} ms over {inputs.window} intervals with the warm-up "
        f"(method {result.method_version}: metrics, sites, sum of sites, stock, balance, coverage); "
        f"complete {result.complete}, flags {result.flags}"
    )
    t0 = time.perf_counter()
    for _ in range(runs):
        scope_inputs(store, config, "city", START, END, 900)
    print(
        f"READ  the city-year's device energies (from the day balances) {(time.perf_counter() - t0) / runs * 1000:.0f} ms"
    )
    print(
        f"ENGINE plain Python {t_python * 1000:.1f} ms (same metrics, sites, sum of sites); ratio {t_python / t_numpy:.0f}x (target >= 50x)"
    )
    print(f"city 2026: self-sufficiency {ss:.4f}, same as the reference for {', '.join(ref)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
