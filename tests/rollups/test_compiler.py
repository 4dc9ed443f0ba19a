"""The rollup compiler service: the one writer of rollups, in a thread (as in the demo) and as the
``ville-autonome rollups`` process, on real stores (its compile passes themselves are tested per
backend in tests/storage)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import CommandProcess, run_command
from tests.support.services import Influxd
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.rollups.service import RollupCompiler
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

REPO = Path(__file__).resolve().parents[2]
CTX = DeviceContext("saint-leu", "iko-hydro", "iko-meter", "production", "hydro")
DAY0 = 1_763_683_200_000


def _counts(store: Store) -> list[int]:
    return [s.count for s in store.intervals("iko-meter", "active_power_w", DAY0, DAY0 + 86_400_000, 900)]


def test_the_compiler_keeps_rollups_up_to_date_while_writers_write(store_settings: StoreSettings) -> None:
    writer, own = open_store(store_settings), open_store(store_settings)
    compiler = RollupCompiler(own, interval_s=0.2, name="test")
    stop = threading.Event()
    thread = threading.Thread(target=compiler.run, args=(stop,), name="rollups")
    thread.start()
    try:
        for k in range(8):  # two hours, a reading a minute, in 15-min batches
            writer.write(
                [StoredReading(CTX, "active_power_w", DAY0 + (15 * k + i) * 60_000, float(i)) for i in range(15)]
            )
            wait_for(lambda k=k: _counts(writer) == [15] * (k + 1), timeout=30, what=f"bucket {k} compiled")
        counters = wait_for(
            lambda: (c := writer.service_stats().get("rollups/test")) and c["rollups_written"] >= 8 and c,
            timeout=30,
            what="the compiler's counters published",
        )
        assert counters["passes"] >= 8
        assert counters["failures"] == 0
    finally:
        stop.set()
        thread.join(timeout=30)
        writer.close()
        own.close()
    assert not thread.is_alive()


def test_a_store_that_goes_away_fails_passes_not_the_compiler(
    influxd_factory: Callable[[], Influxd], unique_name: str
) -> None:
    private = influxd_factory()
    settings = StoreSettings(backend="influxdb", url=private.url, database=unique_name, timeout_s=2)
    store = open_store(settings)
    compiler = RollupCompiler(store, interval_s=0.2, name="test")
    stop = threading.Event()
    thread = threading.Thread(target=compiler.run, args=(stop,), name="rollups")
    try:
        store.write([StoredReading(CTX, "active_power_w", DAY0, 1.0)])
        private.kill()
        thread.start()
        wait_for(lambda: compiler.stats.failures >= 2, timeout=30, what="passes failing while the store is down")
        private.start()
        wait_for(lambda: _counts(store) == [1], timeout=30, what="the rollup compiled once the store is back")
    finally:
        stop.set()
        thread.join(timeout=30)
        store.close()
    assert not thread.is_alive()


def test_the_command_compiles_once_and_as_a_service_stops_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    env = {"VA_STORE_BACKEND": "sqlite", "VA_STORE_PATH": str(path), "VA_STORE_ROLLUP_REFRESH_S": "0.2"}
    config = str(REPO / "config" / "amiens.yaml")
    store = open_store(StoreSettings(backend="sqlite", path=str(path)))
    try:
        store.write([StoredReading(CTX, "active_power_w", DAY0 + i * 60_000, float(i)) for i in range(20)])
        done = run_command(["rollups", "-c", config, "--once"], cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert _counts(store) == [15, 5]
        service = CommandProcess(
            "rollups", ["rollups", "-c", config, "--name", "svc"], workdir=tmp_path, env=env
        ).start()
        try:
            store.write([StoredReading(CTX, "active_power_w", DAY0 + 20 * 60_000, 20.0)])
            wait_for(lambda: _counts(store) == [15, 6], timeout=120, what="the running compiler compiled the new write")
            assert store.service_stats()["rollups/svc"]["passes"] >= 1
            assert service.proc is not None
            service.proc.send_signal(signal.SIGTERM)
            assert service.proc.wait(timeout=60) == 0
            assert "Traceback" not in service.log()
        finally:
            service.stop()
    finally:
        store.close()
