"""Benchmark: one gateway process polling 1,000 simulated Modbus devices every second.

Setup (all real parts, on loopback):
- device processes serve the devices: ``--endpoints`` Modbus TCP servers, each answering every
  unit id with a SunSpec meter image (model 203), ``--units`` of them polled per endpoint, so
  100 × 10 = 1,000 devices. ``--devices responder`` (default): the bench's minimal Modbus TCP
  responder (``bench/modbus_responder.py``: real Modbus TCP frames, a fraction of pymodbus's CPU
  per answer), one process — in production the devices are other hardware and cost the gateway's
  machine nothing; ``--devices pymodbus``: pymodbus servers, 4 processes (``--server-procs``);
- a real Mosquitto broker and an acker (the ingest's role, acknowledging each envelope from its
  header: the least CPU beside the gateway) so the buffer is freed;
- this process runs :class:`gateway.service.GatewayService` for ``--seconds`` after a warm-up.

Prints: polls made against the schedule (devices × seconds), poll-start lateness against the
schedule p50/p99/max measured twice — when the poller's task wakes, and when its first request
is sent (after the connection's lock and pacing: what the device sees) —, CPU (cores used by the
gateway process, per poll, and the part spent decoding registers) and memory (RSS), the cores
used by every other part over the same window (device processes, broker, acker, hog, and
"other": the rest of the machine, other users' work on a shared machine), the envelopes
published and acknowledged, the load average — and a baseline measured in the same run and the
same conditions: a bare pymodbus loop doing the same reads on the same connections without
decoding, buffering or publishing (with the device side's CPU per answer); the ratios are the
gateway's CPU per poll, and its decoding CPU per poll, against the bare CPU per read.

``--stress`` runs ``stress-ng --cpu 1`` beside the gateway and the baseline (a CPU hog on one of
the machine's cores).

Run: ``.venv/bin/python bench/bench_gateway.py --stress`` (targets: ≥ 99.9 % of polls made,
p99 of the lateness at send < 100 ms, decoding ≤ 3× a bare read, under one core).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu_meter import CpuMeter, MethodClock
from bench.gateway_baselines import percentiles, run_baseline, run_paced
from bench.modbus_responder import RegisterImage, serve_image
from tests.gateway.acker import Acker
from tests.gateway.modbus_devices import BASE, meter_image
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.gateway.modbus_source import ModbusPoller
from ville_autonome.gateway.service import GatewayService
from ville_autonome.readings.ack import Ack, encode_ack

log = logging.getLogger("bench_gateway")


def serve(
    kind: str, ports: list[int], ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    """Device process: one server per port answering every unit id with the meter image —
    ``pymodbus`` servers, or the bench's minimal Modbus TCP responder (``responder``)."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    image = meter_image()

    async def main() -> None:
        servers: list[Any] = []
        if kind == "responder":
            servers = await serve_image(RegisterImage(BASE, image), ports)
        else:
            for port in ports:
                data = [SimData(address=BASE, count=len(image), values=image, datatype=DataType.REGISTERS)]
                server = ModbusTcpServer(SimDevice(id=0, simdata=data), address=("127.0.0.1", port))
                await server.serve_forever(background=True)
                servers.append(server)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, done.wait)
        for s in servers:
            if kind == "responder":
                s.close()
            else:
                await s.shutdown()

    asyncio.run(main())


class _Header(msgspec.Struct):
    seq: int
    epoch: int = 0


class HeaderAcker(Acker):
    """The ingest's role at the least CPU: each envelope acknowledged from its header alone
    (the test acker decodes and keeps every reading: 0.14 core of the two at 1,000 devices)."""

    _header = msgspec.json.Decoder(_Header)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if message.topic == self.topics.uplink(self.gateway):
            head = self._header.decode(message.payload)
            client.publish(self.topics.ack(self.gateway), encode_ack(Ack(self.gateway, (head.seq,), head.epoch)), qos=1)


def ack(url: str, root: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    """Acker process (the ingest's role), apart so that its CPU is not counted as the gateway's."""
    acker = HeaderAcker(MqttSettings(url=url, topic_root=root), "gw-bench").start()
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


async def run_gateway(config: PlatformConfig, warmup_s: float, seconds: float, meter: CpuMeter) -> dict[str, Any]:
    service = GatewayService(config, "gw-bench")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop, freeze_gc=True))  # as `ville-autonome gateway` runs it
    proc = psutil.Process()
    await asyncio.sleep(warmup_s)
    stats = service.stats
    polls0, woke0, sent0 = stats.polls, len(stats.poll_lateness_s), len(stats.request_lateness_s)
    cpu0, wall0, parts0 = proc.cpu_times(), time.monotonic(), meter.snapshot()
    with MethodClock(ModbusPoller, "_decode") as decoding, MethodClock(GatewayService, "_seal") as sealing:
        for _ in range(int(seconds // 5)):
            await asyncio.sleep(5)
            log.warning("… %d polls, %d published, %d acked", stats.polls - polls0, stats.published, stats.acked)
        await asyncio.sleep(seconds % 5)
    cpu1, wall1, parts1 = proc.cpu_times(), time.monotonic(), meter.snapshot()
    polls = stats.polls - polls0
    woke = percentiles(list(stats.poll_lateness_s)[woke0:])
    sent = percentiles(list(stats.request_lateness_s)[sent0:])
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
        "polls": polls,
        "wall_s": wall,
        "polls_per_s": polls / wall,
        "cpu_cores": cpu / wall,
        "cpu_per_poll_ms": 1000 * cpu / max(polls, 1),
        "decode_per_poll_ms": 1000 * decoding.cpu_s / max(decoding.calls, 1),
        "seal": (
            sealing.calls,
            1000 * sealing.cpu_s / max(sealing.calls, 1),
            1000 * statistics.median(sealing.wall_s or [0.0]),
            1000 * max(sealing.wall_s or [0.0]),
        ),
        "rss_mb": rss / 1e6,
        "woke": woke,
        "sent": sent,
        "timeouts": failures,
        "missed_slots": missed,
        "published": stats.published,
        "acked": stats.acked,
        "buffered": stats.buffered,
        "load": os.getloadavg()[0],
        "parts": CpuMeter.cores(parts0, parts1, wall),
    }


@contextlib.contextmanager
def stress(on: bool) -> Iterator[list[int]]:
    """``stress-ng --cpu 1`` beside the measured process while inside (nothing when ``on`` is False);
    yields the hog's pid (or none)."""
    if not on:
        yield []
        return
    binary = shutil.which("stress-ng")
    if binary is None:
        raise SystemExit("--stress needs stress-ng (apt-get install stress-ng; scripts/install-test-services.sh)")
    hog = subprocess.Popen([binary, "--cpu", "1", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield [hog.pid]
    finally:
        hog.terminate()
        hog.wait(10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--devices",
        choices=["responder", "pymodbus"],
        default="responder",
        help="what serves the devices: the bench's minimal Modbus TCP responder, or pymodbus servers",
    )
    parser.add_argument(
        "--server-procs", type=int, default=None, help="processes serving the devices (1 responder / 4 pymodbus)"
    )
    parser.add_argument("--stress", action="store_true", help="stress-ng --cpu 1 beside the gateway and the baseline")
    args = parser.parse_args()
    if args.server_procs is None:
        args.server_procs = 1 if args.devices == "responder" else 4
    return args


def start_devices(args: argparse.Namespace, done: multiprocessing.synchronize.Event) -> tuple[list[int], list[Any]]:
    """The device processes (started, not yet ready) and the ports they serve."""
    ports: list[int] = []
    while len(ports) < args.endpoints:  # free_port() may hand out the same port twice
        port = free_port()
        if port not in ports:
            ports.append(port)
    servers = []
    for i in range(args.server_procs):
        ready = multiprocessing.Event()
        part = ports[i :: args.server_procs]
        proc = multiprocessing.Process(target=serve, args=(args.devices, part, ready, done), daemon=True)
        proc.start()
        servers.append((proc, ready))
    return ports, servers


def main() -> int:
    args = parse_args()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a run is stuck
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    done = multiprocessing.Event()
    ports, servers = start_devices(args, done)
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto", persistence=False)
        broker.start()
        acker: multiprocessing.Process | None = None
        try:
            if not all(ready.wait(60) for _, ready in servers):
                print("device process did not start", file=sys.stderr)
                return 1
            acker_ready = multiprocessing.Event()
            acker = multiprocessing.Process(target=ack, args=(broker.url, "bench", acker_ready, done), daemon=True)
            acker.start()
            acker_ready.wait(30)
            config = config_for(ports, args.units, broker.url, "bench", Path(tmp) / "buffer.sqlite")
            with stress(args.stress) as hog:
                parts = {
                    "gateway": [os.getpid()],
                    "devices": [p.pid for p, _ in servers],
                    "broker": [broker.proc.pid],
                    "acker": [acker.pid],
                    "hog": hog,
                }
                meter = CpuMeter({k: [pid for pid in v if pid is not None] for k, v in parts.items()})
                g = asyncio.run(run_gateway(config, args.warmup, args.seconds, meter))
                log.warning("gateway run done; baseline")
                b = asyncio.run(run_baseline(ports, args.units, min(args.seconds, 10.0), meter))
                log.warning("baseline done; bare reads on the gateway's schedule")
                b["paced"] = asyncio.run(run_paced(ports, args.units, min(args.seconds, 10.0)))
        finally:
            done.set()
            if acker is not None:
                acker.join(10)
            broker.stop()
            for proc, _ in servers:
                proc.join(10)
    report(args, g, b)
    return 0


def cores_line(parts: dict[str, float]) -> str:
    names = ("gateway", "devices", "broker", "acker", "hog", "other")
    return ", ".join(f"{n} {parts[n]:.2f}" for n in names) + f"; machine {parts['machine']:.2f} of {os.cpu_count()}"


def report(args: argparse.Namespace, g: dict[str, Any], b: dict[str, Any]) -> None:
    n = args.endpoints * args.units
    expected = n * g["wall_s"]
    beside = "with stress-ng --cpu 1 beside" if args.stress else "no CPU hog"
    devices = f"{args.devices} × {args.server_procs} process(es)"
    print(
        f"devices                 {n} at 1 s ({args.endpoints} endpoints × {args.units} units; {devices}), {args.seconds:g} s, {beside}"
    )
    print(
        f"polls made              {g['polls']:.0f} of {expected:.0f} due: {g['polls'] / expected:.2%} (target ≥ 99.9 %)"
    )
    print("lateness at wake-up     p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms".format(*g["woke"]))
    print(
        "lateness at send        p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms (target p99 < 100 ms)".format(*g["sent"])
    )
    print(f"timeouts / missed slots {g['timeouts']:.0f} / {g['missed_slots']:.0f}")
    print(
        f"CPU                     {g['cpu_cores']:.2f} cores ({g['cpu_per_poll_ms']:.3f} ms per poll, decoding {g['decode_per_poll_ms']:.3f} ms)"
    )
    print(f"cores used, gateway run {cores_line(g['parts'])}")
    print(
        "sealing (loop blocked)  {} seals, {:.1f} ms CPU each; wall {:.1f} ms median, {:.1f} ms max".format(*g["seal"])
    )
    print(f"memory                  {g['rss_mb']:.0f} MB RSS")
    print(
        f"uplink                  {g['published']:.0f} published, {g['acked']:.0f} acked, {g['buffered']:.0f} buffered"
    )
    print(
        f"baseline (bare reads)   {b['reads_per_s']:.0f} reads/s, {b['cpu_per_read_ms']:.3f} ms CPU per read; "
        f"device side {b['device_cpu_per_read_ms']:.3f} ms CPU per answer"
    )
    print(f"cores used, baseline    {cores_line(b['parts'])}")
    paced = b["paced"]
    print(
        f"paced bare reads        {paced['reads']} of {paced['due']:.0f} due, {paced['cpu_per_read_ms']:.3f} ms CPU per read; "
        "lateness at send p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms (load {:.1f})".format(
            *paced["sent"], paced["load"]
        )
    )
    print(
        f"ratio                   gateway CPU per poll / bare CPU per read = {g['cpu_per_poll_ms'] / b['cpu_per_read_ms']:.2f}; "
        f"decoding per poll / bare read = {g['decode_per_poll_ms'] / b['cpu_per_read_ms']:.2f} (target ≤ 3)"
    )
    print(f"load average            {g['load']:.1f} at the gateway run's end, {b['load']:.1f} at the baseline's end")


if __name__ == "__main__":
    sys.exit(main())
