"""Benchmark: 1,000 simulated Modbus devices answering at 1 Hz in one process, and a backfill year.

Run: ``.venv/bin/python bench/bench_simulators.py [--devices 1000] [--seconds 15]``

1. Serve N devices (250 sites × 4: grid meter, load, PV inverter, battery; 20 unit ids per TCP
   port) from ONE simulator process; poll every device once per second from a separate client
   process set (asyncio, pymodbus) and report the simulator process's CPU and memory, the answered
   rate and the request latency. Baseline, same run: the same simulator idle (ticking, no polls).
2. Generate one year of the default scenario at 15 min (simulators.backfill.generate) and report
   the time. Baseline, same run: the engine evaluations alone (no Reading objects).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ville_autonome.configuration import load_config  # noqa: E402
from ville_autonome.configuration.topology import PlatformConfig  # noqa: E402
from ville_autonome.simulators.backfill import generate  # noqa: E402
from ville_autonome.simulators.scenario import BatterySpec, LoadSpec, MeterSpec, PvSpec, Scenario, resolve, scenario_for  # noqa: E402
from ville_autonome.simulators.sites import EPOCH_S, build_engines  # noqa: E402

UNITS_PER_PORT = 20


def big_config(n_devices: int, ports: list[int]) -> tuple[PlatformConfig, Scenario]:
    sites = []
    specs: dict[str, Any] = {}
    kinds = [
        ("grid", None, "sunspec-meter-203", MeterSpec(model="meter", rated_power_w=500_000)),
        ("consumption", None, "sunspec-meter-203", LoadSpec(model="load", profile="office", peak_w=300_000)),
        ("production", "pv", "sunspec-inverter-103", PvSpec(model="pv", peak_w=200_000, rated_power_w=180_000)),
        (
            "storage",
            None,
            "sunspec-battery-802",
            BatterySpec(model="battery", capacity_wh=200_000, rated_power_w=100_000),
        ),
    ]
    i = 0
    for s in range(n_devices // 4):
        devices = []
        for role, source, profile, spec in kinds:
            dev_id = f"d{i:05d}"
            port = ports[i // UNITS_PER_PORT]
            devices.append(
                {
                    "id": dev_id,
                    "role": role,
                    "source": source,
                    "address": f"127.0.0.1:{port}",
                    "unit_id": 1 + i % UNITS_PER_PORT,
                    "profile": profile,
                }
            )
            specs[dev_id] = spec
            i += 1
        sites.append({"id": f"s{s:04d}", "gateway": "gw", "devices": devices})
    doc = {"city": {"id": "bench"}, "gateways": [{"id": "gw"}], "districts": [{"id": "all", "sites": sites}]}
    return PlatformConfig.model_validate(doc), Scenario(seed=1, devices=specs)


def serve(n_devices: int, ports: list[int], ready: Any, stop: Any) -> None:
    from ville_autonome.simulators.service import SimulatorService

    async def main() -> None:
        config, scenario = big_config(n_devices, ports)
        svc = SimulatorService(config, scenario=scenario, start_ms=(EPOCH_S + 86_400) * 1000, speed=1.0)
        async with svc:
            ready.set()
            await asyncio.to_thread(stop.wait)  # the parent sets it (multiprocessing event)

    asyncio.run(main())


async def poll(n_devices: int, ports: list[int], seconds: float) -> tuple[int, int, list[float]]:
    from pymodbus.client import AsyncModbusTcpClient

    ok = failed = 0
    latencies: list[float] = []

    async def one_port(index: int, port: int) -> None:
        nonlocal ok, failed
        units = [1 + i % UNITS_PER_PORT for i in range(n_devices) if i // UNITS_PER_PORT == index]
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        if not await client.connect():
            raise RuntimeError(f"cannot connect to the simulator on port {port}")
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                tick = time.monotonic()
                for unit in units:
                    t0 = time.perf_counter()
                    try:
                        rr = await client.read_holding_registers(40070, count=50, device_id=unit)
                        if rr.isError():
                            failed += 1
                        else:
                            ok += 1
                            latencies.append(time.perf_counter() - t0)
                    except Exception as exc:
                        failed += 1
                        if failed == 1:
                            print(f"first failure: port {port} unit {unit}: {exc!r}")
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        finally:
            client.close()

    await asyncio.gather(*(one_port(i, p) for i, p in enumerate(ports)))
    return ok, failed, latencies


def measure(proc: psutil.Process, seconds: float) -> tuple[float, float]:
    c0 = sum(proc.cpu_times()[:2])
    t0 = time.monotonic()
    time.sleep(seconds)
    cpu = (sum(proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0) * 100.0
    return cpu, proc.memory_info().rss / 1e6


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports, chosen by the OS (nothing hard-coded to collide with)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def bench_devices(n_devices: int, seconds: float) -> None:
    ports = free_ports(-(-n_devices // UNITS_PER_PORT))
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    child = ctx.Process(target=serve, args=(n_devices, ports, ready, stop))
    t0 = time.monotonic()
    child.start()
    try:
        if not ready.wait(300):
            raise RuntimeError("the simulator did not start")
        startup = time.monotonic() - t0
        proc = psutil.Process(child.pid)
        idle_cpu, idle_rss = measure(proc, 5.0)

        result: dict[str, Any] = {}

        def run_poll() -> None:
            result["poll"] = asyncio.run(poll(n_devices, ports, seconds))

        import threading

        poller = threading.Thread(target=run_poll)
        poller.start()
        busy_cpu, busy_rss = measure(proc, seconds - 1.0)
        poller.join()
        ok, failed, lat = result["poll"]
    finally:
        stop.set()
        child.join(30)
        if child.is_alive():
            child.kill()
    rate = ok / seconds
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = float(np.percentile(lat, 99)) * 1000 if lat else float("nan")
    print(f"devices served: {n_devices} on {-(-n_devices // UNITS_PER_PORT)} ports, start-up {startup:.1f} s")
    print(f"idle (baseline): CPU {idle_cpu:.1f} %, RSS {idle_rss:.0f} MB")
    print(
        f"polled at 1 Hz: {rate:.0f} answers/s (target {n_devices}), {failed} failures, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    print(
        f"polled: CPU {busy_cpu:.1f} %, RSS {busy_rss:.0f} MB; CPU ratio polled/idle = {busy_cpu / max(idle_cpu, 0.1):.2f}"
    )


def bench_backfill() -> None:
    config = load_config(ROOT / "config" / "amiens.yaml")
    start = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    end = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    t0 = time.perf_counter()
    n = sum(1 for _ in generate(config, start, end, 900))
    full = time.perf_counter() - t0
    scenario = scenario_for(config)
    t0 = time.perf_counter()
    engines = build_engines([s for _, s in config.sites()], resolve(config, scenario), scenario.seed)
    t = np.arange(start, end, 900_000, dtype=np.int64) / 1000.0
    for e in engines:
        for chunk in np.array_split(t, 13):
            e.evaluate(chunk)
    engine_only = time.perf_counter() - t0
    print(f"backfill year (default scenario, 15 min): {n} readings in {full:.2f} s ({n / full:,.0f} readings/s)")
    print(
        f"baseline (engine only, no Reading objects): {engine_only:.2f} s; ratio full/engine = {full / engine_only:.1f}"
    )
    print(f"goal < 60 s: {'met' if full < 60 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    bench_backfill()
    bench_devices(args.devices, args.seconds)


if __name__ == "__main__":
    main()
