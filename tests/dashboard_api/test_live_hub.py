"""One poller feeds every open stream: real uvicorn, real SQLite store, real HTTP streams."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.dashboard_api.sse import SseReader
from tests.reports.citydata import city_config
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.series.values import LatestValue
from ville_autonome.storage.base import StoreError
from ville_autonome.storage.sqlite_store import SqliteStore


class CountingStore(SqliteStore):
    """The real SQLite store, counting its ``latest`` reads and failing them on demand."""

    latest_calls = 0
    fail_next = 0

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        self.latest_calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise StoreError("the store is away (test)")
        return super().latest(since_ms=since_ms)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[PlatformConfig, CountingStore, str]]:
    config = with_keys(city_config(str(tmp_path / "live.sqlite")))
    store = CountingStore(str(tmp_path / "live.sqlite"))
    try:
        with ApiServer(config, store) as srv:
            yield config, store, srv.url
    finally:
        store.close()


def _write(store: CountingStore, value: float) -> int:
    ts = int(time.time() * 1000)
    ctx = DeviceContext("saint-leu", "iko-hydro", "iko-turbine", "production", "hydro")
    store.write([StoredReading(ctx, "active_power_w", ts, value)])
    return ts


def _power(reader: SseReader, value: float) -> bool:
    return any(r["device"] == "iko-turbine" and r["value"] == value for r in reader.named("reading"))


def test_every_stream_gets_each_new_reading_from_one_poll(served: tuple[PlatformConfig, CountingStore, str]) -> None:
    _, store, url = served
    _write(store, 1000.0)
    params = {"api_key": KEYS["viewer"], "autonomy_every_s": "3600"}
    readers = [SseReader(f"{url}/api/v1/stream", params) for _ in range(8)]
    try:
        for r in readers:
            r.__enter__()
        # each stream starts with the latest values (the snapshot) and the flows now
        wait_for(lambda: all(_power(r, 1000.0) and r.named("flows") for r in readers), timeout=30, what="snapshots")
        calls = store.latest_calls
        _write(store, 2345.0)
        wait_for(lambda: all(_power(r, 2345.0) for r in readers), timeout=30, what="the new reading on every stream")
        # the flows now follow the reading, computed once on the server for every stream
        city = [f for r in readers for e in r.named("flows") for f in e["flows"] if f["scope"] == "city"]
        assert any(f["generation_by_source_w"].get("hydro") == 2345.0 for f in city)
        # one poll of the store per tick, not one per stream: 8 streams did not multiply the reads
        ticks = store.latest_calls - calls
        wait_for(lambda: store.latest_calls - calls >= ticks + 4, timeout=30, what="a few more ticks")
        polls = store.latest_calls - calls
        hub = readers[0]  # every reader saw the same events in the same order
        assert [e for e, _, _ in hub.events if e == "reading"] == [
            e for e, _, _ in readers[-1].events if e == "reading"
        ]
        assert polls < 8 * 4, f"{polls} reads of the store for 8 streams"
    finally:
        for r in readers:
            r.close()


def test_a_failed_poll_is_an_event_and_the_stream_goes_on(served: tuple[PlatformConfig, CountingStore, str]) -> None:
    _, store, url = served
    with SseReader(f"{url}/api/v1/stream", {"api_key": KEYS["viewer"], "autonomy_every_s": "3600"}) as reader:
        wait_for(lambda: reader.named("flows"), timeout=30, what="the stream open")
        store.fail_next = 2
        wait_for(lambda: reader.named("error"), timeout=30, what="the error event")
        assert reader.named("error")[0]["detail"] == "the store did not answer"
        _write(store, 777.0)
        wait_for(lambda: _power(reader, 777.0), timeout=30, what="readings again after the failure")
        assert reader.error is None
