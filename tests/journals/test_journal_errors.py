"""A journal's failures are the store's kinds (storage.base), naming the journal: an operator must
act on a file that is not a database or a database that is not there, a caller retries a locked
file, and a write InfluxDB refuses for what it is is not retried forever."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log import open_alarm_log
from ville_autonome.journals.alarm_records import AlarmQuery
from ville_autonome.journals.command_log import CommandRecord, open_command_log
from ville_autonome.readings.commands import CommandStatus
from ville_autonome.storage.base import StoreAuthError, StoreRejectedError, StoreTransientError
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_http import InfluxHttp

T0 = 1_767_225_600_000


def _record() -> CommandRecord:
    return CommandRecord(
        id="cmd-1",
        device="battery",
        gateway="gw-a",
        issued_by="operator-1",
        issued_ms=T0,
        expires_ms=T0 + 60_000,
        writes=[{"point": "InWRte", "value": 40.0}],
        status=CommandStatus.SENT,
    )


def test_a_file_that_is_not_a_database_is_for_an_operator(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"this is not a SQLite file, " * 100)
    with pytest.raises(StoreAuthError, match="command log"):
        open_command_log(StoreSettings(backend="sqlite", path=str(path)))


def test_a_locked_file_is_worth_a_retry(tmp_path: Path) -> None:
    settings = StoreSettings(backend="sqlite", path=str(tmp_path / "store.sqlite"), timeout_s=0.05)
    log = open_command_log(settings)
    other = sqlite3.connect(settings.path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreTransientError, match="command log"):
            log.record(_record())
        other.execute("ROLLBACK")
        log.record(_record())  # the same record once the file is free
        assert log.get("cmd-1") is not None
    finally:
        other.close()
        log.close()


def test_a_database_that_is_not_there_is_for_an_operator(influxd: Influxd, unique_name: str) -> None:
    log = open_command_log(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        with pytest.raises(StoreAuthError, match="command log"):
            log.record(_record())
    finally:
        log.close()


def test_a_write_influxdb_refuses_for_what_it_is_is_not_transient(influxd: Influxd, unique_name: str) -> None:
    # a foreign writer made the log's expires_ms a string in this shard
    settings = _store_with(influxd, unique_name, [f'command_log expires_ms="x" {T0}'])
    log = open_command_log(settings)
    try:
        with pytest.raises(StoreRejectedError, match="command log"):
            log.record(_record())
    finally:
        log.close()


def test_rows_a_foreign_writer_left_are_skipped_and_the_rest_read(influxd: Influxd, unique_name: str) -> None:
    """Points nobody of ours wrote (a status the log does not know, labels that are not JSON) never
    stop a reader: the alarm evaluator and the API read the good records around them."""
    now = int(time.time() * 1000)
    foreign = [
        f'command_log,command=cmd-x,device=battery,gateway=gw-a status="bogus",writes="[]" {T0 + 5}',
        f'alarm_episodes,key=k-x id="x",labels="{{not json",updated_ms="soon" {now - 60_000}',
        f'alarm_events,key=k-x kind="fired",alarm_id="x" {now - 60_000}',
    ]
    settings = _store_with(influxd, unique_name, foreign)
    commands = open_command_log(settings)
    alarms = open_alarm_log(settings)
    try:
        commands.record(_record())
        assert [c.id for c in commands.list()] == ["cmd-1"]
        assert alarms.alarms(AlarmQuery()) == []
        assert [e.kind for e in alarms.events(since_ms=now - 120_000, until_ms=now)] == ["fired"]
    finally:
        commands.close()
        alarms.close()


def _store_with(influxd: Influxd, database: str, lines: list[str]) -> StoreSettings:
    """A store's database on ``influxd`` (created by the store) holding ``lines`` as another writer
    left them."""
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=database)
    open_store(settings).close()
    http = InfluxHttp(influxd.url, timeout_s=10.0)
    try:
        r = http.request("POST", "/write", {"db": database, "precision": "ms"}, "\n".join(lines).encode())
        assert r.status == 204
    finally:
        http.close()
    return settings
