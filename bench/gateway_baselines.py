"""The gateway benchmark's baselines, measured in the same run and conditions as the gateway:
bare pymodbus reads back to back on every connection (:func:`run_baseline`), and bare reads on
the gateway's own schedule (:func:`run_paced`)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import psutil

from bench.cpu_meter import CpuMeter
from ville_autonome.gateway.schedule import spread_phases


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max [ms]."""
    s = sorted(samples)
    if not s:
        return (float("nan"),) * 3
    return 1000 * statistics.median(s), 1000 * s[int(0.99 * (len(s) - 1))], 1000 * s[-1]


async def run_baseline(ports: list[int], units: int, seconds: float, meter: CpuMeter) -> dict[str, Any]:
    """Bare pymodbus: the same read (104 registers) per device, back to back on each connection."""
    from pymodbus.client import AsyncModbusTcpClient

    clients = [AsyncModbusTcpClient("127.0.0.1", port=p, timeout=1, retries=0) for p in ports]
    for c in clients:
        await c.connect()
    proc = psutil.Process()
    reads = 0
    deadline = time.monotonic() + seconds

    async def worker(c: AsyncModbusTcpClient) -> None:
        nonlocal reads
        unit = 1
        while time.monotonic() < deadline:
            rr = await c.read_holding_registers(40073, count=104, device_id=unit)
            if not rr.isError():
                reads += 1
            unit = unit % units + 1

    cpu0, wall0, parts0 = proc.cpu_times(), time.monotonic(), meter.snapshot()
    await asyncio.gather(*(worker(c) for c in clients))
    cpu1, wall1, parts1 = proc.cpu_times(), time.monotonic(), meter.snapshot()
    for c in clients:
        c.close()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    devices_cpu = parts1["devices"] - parts0["devices"]
    return {
        "reads_per_s": reads / (wall1 - wall0),
        "cpu_per_read_ms": 1000 * cpu / max(reads, 1),
        "device_cpu_per_read_ms": 1000 * devices_cpu / max(reads, 1),
        "parts": CpuMeter.cores(parts0, parts1, wall1 - wall0),
        "load": os.getloadavg()[0],
    }


async def run_paced(ports: list[int], units: int, seconds: float) -> dict[str, Any]:
    """Bare pymodbus on the gateway's schedule: one task per device, each reading once a second at
    its phase (``gateway.schedule``), nothing else — what the schedule alone costs, and the
    lateness at send of a poller doing no work beside its reads."""
    from pymodbus.client import AsyncModbusTcpClient

    clients = [AsyncModbusTcpClient("127.0.0.1", port=p, timeout=1, retries=0) for p in ports]
    for c in clients:
        await c.connect()
    locks = [asyncio.Lock() for _ in clients]
    keys = [i for i in range(len(clients)) for _ in range(units)]
    phases = spread_phases([str(k) for k in keys])
    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0
    end = start + seconds
    late: list[float] = []
    reads = 0

    async def device(k: int, unit: int, phase: float) -> None:
        nonlocal reads
        due = start + phase
        while due < end:
            await asyncio.sleep(due - loop.time())
            async with locks[k]:
                late.append(loop.time() - due)
                rr = await clients[k].read_holding_registers(40073, count=104, device_id=unit)
            reads += 0 if rr.isError() else 1
            due += 1.0
            while due <= loop.time():
                due += 1.0

    proc = psutil.Process()
    await asyncio.sleep(start - loop.time())
    cpu0 = proc.cpu_times()
    units_of = [u % units + 1 for u in range(len(keys))]
    await asyncio.gather(*(device(k, u, p) for k, u, p in zip(keys, units_of, phases, strict=True)))
    cpu1 = proc.cpu_times()
    for c in clients:
        c.close()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {
        "reads": reads,
        "due": len(keys) * seconds,
        "cpu_per_read_ms": 1000 * cpu / max(reads, 1),
        "sent": percentiles(late),
        "load": os.getloadavg()[0],
    }
