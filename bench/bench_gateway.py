"""Benchmark: one gateway process polling 1,000 simulated Modbus devices every second.

Setup (all real parts, on loopback):
- a separate process serves the devices: ``--endpoints`` pymodbus TCP servers, each answering
  ``--units`` unit ids with a SunSpec meter image (model 203), so 100 × 10 = 1,000 devices;
- a real Mosquitto broker and a test acker (the ingest's role) so the buffer is freed;
- this process runs :class:`gateway.service.GatewayService` for ``--seconds`` after a warm-up.

Prints: achieved poll rate against the target, poll-start jitter (lateness against the
schedule) p50/p99/max, CPU (cores used by the gateway process) and memory (RSS), the envelopes
published and acknowledged — and a baseline measured in the same run: a bare pymodbus loop doing
the same reads on the same connections without decoding, buffering or publishing; the ratio is
the gateway's CPU per poll against the bare CPU per read.

Run: ``.venv/bin/python bench/bench_gateway.py`` (targets: every poll on time, p99 < 100 ms,
under one core).
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import multiprocessing
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gateway.acker import Acker
from tests.gateway.modbus_devices import BASE, meter_image
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.gateway.service import GatewayService

log = logging.getLogger("bench_gateway")


def serve(ports: list[int], ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    """Device process: one pymodbus server per port, answering every unit id."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    image = meter_image()

    async def main() -> None:
        servers = []
        for port in ports:
            data = [SimData(address=BASE, count=len(image), values=image, datatype=DataType.REGISTERS)]
            server = ModbusTcpServer(SimDevice(id=0, simdata=data), address=("127.0.0.1", port))
            await server.serve_forever(background=True)
            servers.append(server)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, done.wait)
        for s in servers:
            await s.shutdown()

    asyncio.run(main())


def ack(url: str, root: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    """Acker process (the ingest's role), apart so that its CPU is not counted as the gateway's."""
    acker = Acker(MqttSettings(url=url, topic_root=root), "gw-bench").start()
    ready.set()
    done.wait()
    acker.stop()


def config_for(ports: list[int], units: int, url: str, root: str, buffer: Path) -> PlatformConfig:
    devices = [
        {
            "id": f"dev-{p}-{u}",
            "role": "grid",
            "address": f"127.0.0.1:{p}",
            "unit_id": u,
            "profile": "sunspec-meter-203",
            "poll_interval_s": 1.0,
            "timeout_s": 1.0,
            "sunspec_discovery": False,
        }
        for p in ports
        for u in range(1, units + 1)
    ]
    return PlatformConfig.model_validate(
        {
            "city": {"id": "bench"},
            "services": {"mqtt": {"url": url, "topic_root": root}},
            "gateways": [{"id": "gw-bench", "buffer_path": str(buffer), "max_batch": 5000}],
            "districts": [{"id": "d", "sites": [{"id": "s", "gateway": "gw-bench", "devices": devices}]}],
        }
    )


async def run_gateway(config: PlatformConfig, warmup_s: float, seconds: float) -> dict[str, float]:
    service = GatewayService(config, "gw-bench")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    proc = psutil.Process()
    await asyncio.sleep(warmup_s)
    stats = service.stats
    polls0, lateness0 = stats.polls, len(stats.poll_lateness_s)
    cpu0, wall0 = proc.cpu_times(), time.monotonic()
    for _ in range(int(seconds // 5)):
        await asyncio.sleep(5)
        log.warning("… %d polls, %d published, %d acked", stats.polls - polls0, stats.published, stats.acked)
    await asyncio.sleep(seconds % 5)
    cpu1, wall1 = proc.cpu_times(), time.monotonic()
    polls = stats.polls - polls0
    lateness = sorted(list(stats.poll_lateness_s)[lateness0:])
    rss = proc.memory_info().rss
    failures = sum(s.errors.get("timeout", 0) for s in stats.devices.values())
    missed = sum(s.errors.get("missed_slots", 0) for s in stats.devices.values())
    stop.set()
    log.warning("stopping the gateway")
    await task
    log.warning("gateway stopped")
    wall = wall1 - wall0
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {
        "polls_per_s": polls / wall,
        "cpu_cores": cpu / wall,
        "cpu_per_poll_ms": 1000 * cpu / max(polls, 1),
        "rss_mb": rss / 1e6,
        "p50_ms": 1000 * statistics.median(lateness) if lateness else float("nan"),
        "p99_ms": 1000 * lateness[int(0.99 * (len(lateness) - 1))] if lateness else float("nan"),
        "max_ms": 1000 * lateness[-1] if lateness else float("nan"),
        "timeouts": failures,
        "missed_slots": missed,
        "published": stats.published,
        "acked": stats.acked,
        "buffered": stats.buffered,
    }


async def run_baseline(ports: list[int], units: int, seconds: float) -> dict[str, float]:
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

    cpu0, wall0 = proc.cpu_times(), time.monotonic()
    await asyncio.gather(*(worker(c) for c in clients))
    cpu1, wall1 = proc.cpu_times(), time.monotonic()
    for c in clients:
        c.close()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"reads_per_s": reads / (wall1 - wall0), "cpu_per_read_ms": 1000 * cpu / max(reads, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--server-procs", type=int, default=4, help="processes serving the devices")
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a run is stuck
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    ports: list[int] = []
    while len(ports) < args.endpoints:  # free_port() may hand out the same port twice
        port = free_port()
        if port not in ports:
            ports.append(port)
    done = multiprocessing.Event()
    servers, readies = [], []
    for i in range(args.server_procs):  # the device side must not be the bottleneck
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=serve, args=(ports[i :: args.server_procs], ready, done), daemon=True)
        proc.start()
        servers.append(proc)
        readies.append(ready)
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto", persistence=False)
        broker.start()
        acker: multiprocessing.Process | None = None
        try:
            if not all(r.wait(60) for r in readies):
                print("device process did not start", file=sys.stderr)
                return 1
            acker_ready = multiprocessing.Event()
            acker = multiprocessing.Process(target=ack, args=(broker.url, "bench", acker_ready, done), daemon=True)
            acker.start()
            acker_ready.wait(30)
            n = args.endpoints * args.units
            config = config_for(ports, args.units, broker.url, "bench", Path(tmp) / "buffer.sqlite")
            g = asyncio.run(run_gateway(config, args.warmup, args.seconds))
            log.warning("gateway run done; baseline")
            b = asyncio.run(run_baseline(ports, args.units, min(args.seconds, 10.0)))
        finally:
            done.set()
            if acker is not None:
                acker.join(10)
            broker.stop()
            for proc in servers:
                proc.join(10)
    print(f"devices                 {n} at 1 s ({args.endpoints} endpoints × {args.units} units), {args.seconds:g} s")
    print(f"poll rate               {g['polls_per_s']:.1f} /s (target {n}/s: {g['polls_per_s'] / n:.1%})")
    print(f"poll-start jitter       p50 {g['p50_ms']:.1f} ms, p99 {g['p99_ms']:.1f} ms, max {g['max_ms']:.1f} ms")
    print(f"timeouts / missed slots {g['timeouts']:.0f} / {g['missed_slots']:.0f}")
    print(f"CPU                     {g['cpu_cores']:.2f} cores ({g['cpu_per_poll_ms']:.3f} ms per poll)")
    print(f"memory                  {g['rss_mb']:.0f} MB RSS")
    print(
        f"uplink                  {g['published']:.0f} published, {g['acked']:.0f} acked, {g['buffered']:.0f} buffered"
    )
    print(f"baseline (bare reads)   {b['reads_per_s']:.0f} reads/s, {b['cpu_per_read_ms']:.3f} ms CPU per read")
    print(
        f"ratio                   gateway CPU per poll / bare CPU per read = {g['cpu_per_poll_ms'] / b['cpu_per_read_ms']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
