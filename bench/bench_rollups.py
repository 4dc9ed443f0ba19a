"""Benchmark of the rollup compiler on InfluxDB (not collected by pytest):
``.venv/bin/python bench/bench_rollups.py [--part live|backfill|decode|all]``.

Starts its own influxd 1.x (Debian's, as CI) on free loopback ports in a temporary directory.

1. **live**: what rollups cost influxd at the 22-device Amiens topology (59 series, a reading
   per second each; ``--devices N`` for N synthetic 3-series devices instead). Two writers (the two
   ingest workers) write the readings of ``--speed`` simulated seconds every second, for
   ``--minutes`` of wall time: first alone (baseline, same run), then with the compiler at the
   shipped cadence scaled by the speed (a pass every 30 simulated seconds). influxd CPU of the
   second phase minus the first, per simulated second, is the cost at real time (target < 0.1
   core). Also: influxd CPU measured during each pass alone.
2. **backfill**: a year of the default scenario at 15 min (2.07 M readings) written in 5,000-point
   batches as the ingest writes them, while ``ville-autonome rollups`` runs as its own process;
   how long after the last write the rollups are complete (target < 60 s), the writer's memory.
3. **decode**: a city-year of 15-min rollups read as columns (every series), the server answering
   JSON (decoded by msgspec, what the store does), CSV or MessagePack: the time of each.

Each part prints the machine's load average next to its figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import CommandProcess  # noqa: E402
from tests.support.services import Influxd  # noqa: E402
from ville_autonome.configuration.loader import load_config  # noqa: E402
from ville_autonome.configuration.services import StoreSettings  # noqa: E402
from ville_autonome.configuration.topology import PlatformConfig  # noqa: E402
from ville_autonome.readings.model import DeviceContext, StoredReading  # noqa: E402
from ville_autonome.rollups.service import RollupCompiler  # noqa: E402
from ville_autonome.simulators.backfill import generate  # noqa: E402
from ville_autonome.storage.factory import open_store  # noqa: E402
from ville_autonome.storage.influx_store import InfluxStore  # noqa: E402

SHIPPED_CADENCE_S = 30.0  # services.store.rollup_refresh_s
YEAR_START = 1_767_222_000_000  # 2026-01-01T00:00+01:00
DAY_MS = 86_400_000


def load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {psutil.cpu_count()} CPUs"


def cpu_s(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def contexts(config: PlatformConfig) -> dict[str, DeviceContext]:
    return {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}


def readings(config: PlatformConfig, devices: int, start_ms: int, seconds: int) -> list[StoredReading]:
    """One reading per series and second from ``start_ms``: the Amiens scenario, or ``devices``
    synthetic devices with three quantities each."""
    if devices == 0:
        ctx = contexts(config)
        return [
            StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality)
            for r in generate(config, start_ms, start_ms + seconds * 1000, 1)
        ]
    out = []
    for s in range(seconds):
        for d in range(devices):
            ctx = DeviceContext("d", f"s{d % 50}", f"dev-{d:04d}", "consumption", "")
            for q, v in (("active_power_w", 100.0 + d), ("energy_import_wh", 1e6 + s * d), ("voltage_v", 230.0)):
                out.append(StoredReading(ctx, q, start_ms + s * 1000, v))
    return out


# ----------------------------------------------------------------- 1. live


def live(influxd: Influxd, config: PlatformConfig, *, minutes: float, speed: int, devices: int) -> None:
    settings = StoreSettings(backend="influxdb", url=influxd.url, database="live")
    writers = [open_store(settings), open_store(settings)]
    server = psutil.Process(influxd.proc.pid)  # type: ignore[union-attr]
    sim = [int(time.time() * 1000) // 900_000 * 900_000]  # simulated time, from a bucket start
    wall = minutes * 60

    def write_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        tick = time.monotonic()
        while tick < deadline:
            batch = readings(config, devices, sim[0], speed)
            sim[0] += speed * 1000
            half = len(batch) // 2
            writers[0].write(batch[:half])
            writers[1].write(batch[half:])
            tick += 1.0
            time.sleep(max(0.0, tick - time.monotonic()))  # the pace of live data, not a synchronisation

    write_for(5)  # warm up: connections, the first shard
    c0, t0 = cpu_s(server), time.monotonic()
    write_for(wall)
    alone = (cpu_s(server) - c0) / (time.monotonic() - t0)

    compiler_store = open_store(settings)
    compiler = RollupCompiler(compiler_store, interval_s=SHIPPED_CADENCE_S / speed, name="bench")
    passes: list[tuple[float, float]] = []  # (seconds, influxd CPU seconds) of each pass
    run_pass = compiler.run_pass

    def timed_pass(budget_s: float | None = 5.0) -> bool:
        c, t = cpu_s(server), time.monotonic()
        done = run_pass(budget_s)
        passes.append((time.monotonic() - t, cpu_s(server) - c))
        return done

    compiler.run_pass = timed_pass  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=compiler.run, args=(stop,), name="compiler")
    compiler.run_pass(None)  # what the baseline phase left, before the measured phase
    passes.clear()
    c0, t0 = cpu_s(server), time.monotonic()
    thread.start()
    write_for(wall)
    with_rollups = (cpu_s(server) - c0) / (time.monotonic() - t0)
    stop.set()
    thread.join()
    for s in (*writers, compiler_store):
        s.close()
    series = 59 if devices == 0 else 3 * devices
    in_passes = sum(c for _, c in passes)
    print(
        f"LIVE  {devices or 22} devices ({series} series, 1 reading/s each), x{speed} simulated time, "
        f"{wall:.0f} s per phase; {load()}"
    )
    print(
        f"LIVE  influxd CPU: writes alone {alone:.3f} core, writes + rollups {with_rollups:.3f} core (x{speed} speed)"
    )
    print(
        f"LIVE  rollups at real time: {(with_rollups - alone) / speed:.4f} core (difference of the phases); "
        f"{in_passes / (wall * speed):.4f} core (influxd CPU during the {len(passes)} passes, writes included); "
        f"pass p50 {np.median([s for s, _ in passes]) * 1000:.0f} ms (target < 0.1 core)"
    )


# ----------------------------------------------------------------- 2. backfill


def year(config: PlatformConfig, days: int) -> Iterator[list[StoredReading]]:
    ctx = contexts(config)
    batch: list[StoredReading] = []
    for r in generate(config, YEAR_START, YEAR_START + days * DAY_MS, 900):
        batch.append(StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality))
        if len(batch) >= 5000:
            yield batch
            batch = []
    if batch:
        yield batch


def backfill(influxd: Influxd, config: PlatformConfig, days: int, workdir: Path) -> None:
    settings = StoreSettings(backend="influxdb", url=influxd.url, database="year")
    batches = list(year(config, days))
    good = sum(1 for b in batches for r in b if r.quality == "good" and r.value is not None)
    store = open_store(settings)
    assert isinstance(store, InfluxStore)
    env = {
        "VA_STORE_BACKEND": "influxdb",
        "VA_STORE_URL": influxd.url,
        "VA_STORE_DATABASE": "year",
        "VA_STORE_ROLLUP_REFRESH_S": "1",
    }
    compiler = CommandProcess(
        "rollups", ["rollups", "-c", str(ROOT / "config" / "amiens.yaml")], workdir=workdir, env=env
    )
    compiler.start()
    server, me = psutil.Process(influxd.proc.pid), psutil.Process()  # type: ignore[union-attr]
    rss0 = peak = me.memory_info().rss
    c_server = cpu_s(server)
    t0 = time.monotonic()
    for b in batches:
        store.write(b)
        peak = max(peak, me.memory_info().rss)
    t_written = time.monotonic()

    def compiled() -> float:
        rows = store.query('SELECT sum("count") FROM rollup_1d')
        return float(rows[0]["values"][0][1]) if rows else 0.0

    while compiled() < good:
        if time.monotonic() - t_written > 1800:
            raise SystemExit(f"rollups incomplete after 30 min: {compiled():.0f} of {good}")
        time.sleep(0.5)  # polling interval of the measurement
    t_done = time.monotonic()
    compiler_cpu = cpu_s(psutil.Process(compiler.proc.pid))  # type: ignore[union-attr]
    compiler.stop()
    store.close()
    n = sum(len(b) for b in batches)
    print(f"BACKFILL {days} days, {n} readings ({good} good) in {len(batches)} batches of 5,000; {load()}")
    print(
        f"BACKFILL written in {t_written - t0:.1f} s ({n / (t_written - t0):,.0f} readings/s); rollups complete "
        f"{t_done - t_written:.1f} s after the last write (target < 60 s); influxd CPU {cpu_s(server) - c_server:.0f} s, "
        f"compiler CPU {compiler_cpu:.0f} s"
    )
    print(
        f"BACKFILL writer RSS {rss0 / 2**20:.0f} MiB before, peak {peak / 2**20:.0f} MiB (the batches held: {len(batches)})"
    )


# ----------------------------------------------------------------- 3. decode


def decode(influxd: Influxd, database: str) -> None:
    import http.client

    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=database))
    assert isinstance(store, InfluxStore)
    series = [
        (s["tags"]["device"], s["tags"]["quantity"])
        for s in store.query('SELECT last("count") FROM rollup_15m GROUP BY device, quantity')
    ]
    store.close()
    host, port = urllib.parse.urlsplit(influxd.url).hostname, urllib.parse.urlsplit(influxd.url).port
    conn = http.client.HTTPConnection(host or "127.0.0.1", port)
    json_dec, pack_dec = msgspec.json.Decoder(), msgspec.msgpack.Decoder()

    def ask(device: str, quantity: str, accept: str) -> bytes:
        q = (
            f'SELECT "count", "first", "last", "minimum", "maximum" FROM rollup_15m WHERE device = \'{device}\' '  # noqa: S608
            f"AND quantity = '{quantity}' AND time >= {YEAR_START}ms AND time < {YEAR_START + 365 * DAY_MS}ms"
        )
        conn.request(
            "GET",
            "/query?" + urllib.parse.urlencode({"db": database, "q": q, "epoch": "ms"}),
            headers={"Accept": accept},
        )
        return conn.getresponse().read()

    def columns(rows: list[list[float]]) -> np.ndarray:
        return np.array(rows, dtype=np.float64)

    def from_json(body: bytes) -> np.ndarray:
        res = json_dec.decode(body)["results"][0].get("series") or [{"values": []}]
        return columns(res[0]["values"])

    def from_msgpack(body: bytes) -> np.ndarray:
        res = pack_dec.decode(body)["results"][0].get("series") or [{"values": []}]
        return columns(res[0]["values"])

    def from_csv(body: bytes) -> np.ndarray:
        rows = list(csv.reader(io.StringIO(body.decode())))[1:]
        return np.array([[float(x) for x in r[2:]] for r in rows], dtype=np.float64)

    results: dict[str, tuple[float, float, int]] = {}
    for name, accept, parse in (
        ("JSON (msgspec)", "application/json", from_json),
        ("CSV", "application/csv", from_csv),
        ("MessagePack (msgspec)", "application/x-msgpack", from_msgpack),
    ):
        best_total = best_decode = float("inf")
        for _ in range(3):
            total = dec = 0.0
            rows = 0
            for device, quantity in series:
                t = time.perf_counter()
                body = ask(device, quantity, accept)
                t_body = time.perf_counter()
                rows += parse(body).shape[0]
                total += time.perf_counter() - t
                dec += time.perf_counter() - t_body
            best_total, best_decode = min(best_total, total), min(best_decode, dec)
        results[name] = (best_total, best_decode, rows)
    conn.close()
    base = results["JSON (msgspec)"]
    print(f"DECODE {len(series)} series x a year of 15-min rollups ({base[2]:,} rows, 5 fields); best of 3; {load()}")
    for name, (total, dec, rows) in results.items():
        print(
            f"DECODE {name:<22} request+decode {total:.3f} s, decode alone {dec:.3f} s "
            f"({base[0] / total:.2f}x / {base[1] / dec:.2f}x vs JSON), {rows:,} rows"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=("live", "backfill", "decode", "all"), default="all")
    parser.add_argument("--minutes", type=float, default=3.0, help="wall minutes of each live phase")
    parser.add_argument("--speed", type=int, default=10, help="simulated seconds per wall second (live)")
    parser.add_argument("--devices", type=int, default=0, help="synthetic devices instead of Amiens' 22 (live)")
    parser.add_argument("--days", type=int, default=365, help="days of backfill")
    args = parser.parse_args()
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})
    with tempfile.TemporaryDirectory(prefix="va-bench-rollups-") as tmp:
        influxd = Influxd(Path(tmp) / "influxd")
        influxd.start()
        try:
            if args.part in ("live", "all"):
                live(influxd, config, minutes=args.minutes, speed=args.speed, devices=args.devices)
            if args.part in ("backfill", "decode", "all"):
                backfill(influxd, config, args.days, Path(tmp))
            if args.part in ("decode", "all"):
                decode(influxd, "year")
        finally:
            influxd.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
