"""The audit log of commands, durable on both backends: recorded, settled once, listed newest first,
unanswered ones marked ``no_result``; it survives closing and reopening the store."""

from __future__ import annotations

from dataclasses import replace

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.command_log import (
    CommandRecord,
    command_log_for,
    expire_unanswered,
    open_command_log,
    settle,
)
from ville_autonome.readings.commands import CommandStatus
from ville_autonome.storage.factory import open_store

T0 = 1_767_225_600_000


def _record(i: int, device: str = "battery", status: CommandStatus = CommandStatus.SENT) -> CommandRecord:
    return CommandRecord(
        id=f"cmd-{i}",
        device=device,
        gateway="gw-a",
        issued_by="operator-1",
        issued_ms=T0 + i * 1000,
        expires_ms=T0 + i * 1000 + 60_000,
        writes=[{"point": "InWRte", "value": 40.0}],
        status=status,
    )


def test_commands_are_recorded_settled_once_and_survive_a_restart(store_settings: StoreSettings) -> None:
    log = open_command_log(store_settings)
    for i in range(3):
        log.record(_record(i, device="battery" if i < 2 else "turbine"))
    answer = replace(_record(1), status=CommandStatus.APPLIED, readback={"InWRte": 40.0}, done_ms=T0 + 1500, detail="")
    assert settle(log, answer) is not None
    late = replace(answer, status=CommandStatus.REFUSED, detail="a re-delivered, different answer")
    assert settle(log, late).status is CommandStatus.APPLIED  # type: ignore[union-attr]
    assert settle(log, replace(answer, id="nope")) is None
    assert settle(log, replace(_record(0), gateway="gw-other", status=CommandStatus.APPLIED)) is None
    log.close()

    again = open_command_log(store_settings)
    try:
        assert [r.id for r in again.list()] == ["cmd-2", "cmd-1", "cmd-0"]
        assert [r.id for r in again.list(device="battery", limit=1)] == ["cmd-1"]
        done = again.get("cmd-1")
        assert done is not None
        assert (done.status, done.readback, done.done_ms, done.issued_by) == (
            CommandStatus.APPLIED,
            {"InWRte": 40.0},
            T0 + 1500,
            "operator-1",
        )
        assert done.writes == [{"point": "InWRte", "value": 40.0}]
        expire_unanswered(again, T0 + 120_000, 5_000, device="battery")
        assert again.get("cmd-0").status is CommandStatus.NO_RESULT  # type: ignore[union-attr]
        assert again.get("cmd-1").status is CommandStatus.APPLIED  # type: ignore[union-attr]
        assert again.get("cmd-2").status is CommandStatus.SENT  # type: ignore[union-attr] (another device)
    finally:
        again.close()


def test_the_log_refuses_nothing_it_cannot_store(store_settings: StoreSettings) -> None:
    odd = replace(_record(7), issued_by='o"p\\e,r a=tor', writes=[{"point": "x y,z=1", "value": -1.5}])
    log = open_command_log(store_settings)
    try:
        log.record(odd)
        got = log.get("cmd-7")
        assert got is not None
        assert (got.issued_by, got.writes) == (odd.issued_by, odd.writes)
    finally:
        log.close()


def test_the_api_keeps_the_log_beside_the_store_it_reads(store_settings: StoreSettings) -> None:
    store = open_store(store_settings)
    other = StoreSettings(backend="sqlite", path="/nonexistent/not-this-one.sqlite")
    log = command_log_for(store, other)  # the store's own file or database, not the settings'
    try:
        log.record(_record(3))
        reader = open_command_log(store_settings)
        try:
            assert reader.get("cmd-3") is not None
        finally:
            reader.close()
    finally:
        log.close()
        store.close()
