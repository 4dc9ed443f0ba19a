"""Session-wide fixtures: real Mosquitto and InfluxDB processes, and a leak check on every test.

- ``mosquitto`` / ``influxd``: one real process each for the whole session (tests isolate
  themselves by topic root / database name);
- ``mosquitto_factory`` / ``influxd_factory``: a private process for tests that stop, kill or
  restart it;
- ``store_backend`` / ``store_settings``: each real store backend in turn (a SQLite file, a database
  of that influxd; tests/support/stores.py), for the tests that run on both;
- every test fails if it leaves threads, asyncio tasks or child processes behind;
- the tests marked ``slow`` run first (scheduling only: every test runs).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, settings

from tests.support.services import Influxd, Mosquitto, private_services
from tests.support.stores import BACKENDS, fresh_name, settings_for
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.factory import open_store

# property tests assert behaviour, never speed: no per-example deadline and no "too slow" health
# check, so that a loaded CI machine cannot fail them (speed lives in bench/)
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

LEAK_GRACE_S = 5.0


@pytest.fixture(scope="session")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def mosquitto(service_dir: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(service_dir / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxd(service_dir: Path) -> Iterator[Influxd]:
    db = Influxd(service_dir / "influxd")
    db.start()
    yield db
    db.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    with private_services(Mosquitto, tmp_path) as make:
        yield make


@pytest.fixture
def influxd_factory(tmp_path: Path) -> Iterator[Callable[[], Influxd]]:
    with private_services(Influxd, tmp_path) as make:
        yield make


@pytest.fixture
def unique_name() -> str:
    """A short unique lower-case name for a database or topic root of one test."""
    return fresh_name()


@pytest.fixture(scope="module", params=BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each store backend in turn, per module (so that a module fixture fills one store per backend)."""
    backend: str = request.param
    return backend


@pytest.fixture
def store_settings(store_backend: str, tmp_path: Path, unique_name: str, influxd: Influxd) -> StoreSettings:
    """A test's own store on ``store_backend``: a SQLite file in its tmp_path, or a fresh database
    of the session's influxd, made by the store (as the journals, which do not make it, expect).
    tests/storage overrides it (external servers too, the database left for the store to make)."""
    settings = settings_for(store_backend, tmp_path, influxd, database=unique_name)
    if store_backend == "influxdb":
        open_store(settings).close()  # the store creates its database
    return settings


# ---------------------------------------------------------------- leak checks


def _session_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture(scope="session")
def _session_processes(mosquitto: Mosquitto, influxd: Influxd) -> set[int]:
    return set()


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves threads or child processes behind (asyncio tasks: see below)."""
    threads_before = set(threading.enumerate())
    children_before = _session_children()
    yield

    def leaked_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]

    def leaked_children() -> list[int]:
        alive = []
        for pid in _session_children() - children_before:
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        return alive

    try:
        wait_for(lambda: not leaked_threads() and not leaked_children(), timeout=LEAK_GRACE_S, what="cleanup")
    except AssertionError:
        threads = ", ".join(t.name for t in leaked_threads())
        children = ", ".join(str(p) for p in leaked_children())
        pytest.fail(f"test left behind threads [{threads}] child processes [{children}]")


def _check_tasks(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = await fn(*args, **kwargs)
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=LEAK_GRACE_S)
            still = [t for t in pending if not t.done()]
            if still:
                names = ", ".join(t.get_name() + ":" + repr(t.get_coro()) for t in still)
                for t in still:
                    t.cancel()
                await asyncio.gather(*still, return_exceptions=True)
                pytest.fail(f"test left behind asyncio tasks: {names}")
        return result

    return wrapper


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Wrap every async test so that it fails when it leaves asyncio tasks running; run the tests
    marked ``slow`` first (the order is otherwise kept): under ``--dist worksteal`` (the Makefile)
    the long ones start at once on both workers and the short ones fill the end, instead of a long
    one drawn last running alone while the other worker waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = _check_tasks(item.obj)
