"""The evaluator over a real store and alarm log, on both backends: it fires, notifies once,
survives a restart without forgetting or repeating, resolves, groups a storm, and restores the
notified marks of a message stored just before a crash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.alerts.lab import config
from ville_autonome.alerts.evaluator import Evaluator
from ville_autonome.alerts.observe import Observer
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log import alarm_log_for
from ville_autonome.journals.alarm_records import AlarmLog, AlarmQuery
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

S = 1000
NOW = int(time.time() * 1000) // 1000 * 1000 - 600 * S
CFG = config(
    "    - {id: silent, kind: device_silent, severity: critical, after_s: 60, for: 30s}\n",
    "  alerts:\n    group_by: [district]\n    group_wait_s: 5\n    group_interval_s: 60\n",
)
GATEWAY = {dev.id: s.gateway for _, s, dev in CFG.devices()}


@pytest.fixture
def stores(settings: StoreSettings) -> Iterator[tuple[Store, AlarmLog]]:
    store = open_store(settings)
    log = alarm_log_for(store, settings)
    yield store, log
    log.close()
    store.close()


def heard(store: Store, devices: list[str], at_ms: int) -> None:
    """Every device answered its gateway at ``at_ms`` (a good reading and its health)."""
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in CFG.devices()}
    store.write([StoredReading(ctx[d], "active_power_w", at_ms, 1000.0) for d in devices])
    store.write_health([DeviceHealth(d, GATEWAY[d], True, at_ms, at_ms) for d in devices])


def tick(ev: Evaluator, store: Store, now: int) -> list[str]:
    """One evaluation and notification at ``now``: the events' kinds and subjects."""
    events = ev.evaluate(Observer(store, NOW).observe(now, None))
    ev.notify(now)
    return sorted(f"{e.kind}:{e.key.split(':')[1]}" for e in events)


ALL = ["plant-meter", "turbine", "homes-meter", "homes-load", "hub-meter", "battery"]


def test_fire_notify_once_restart_resolve(stores: tuple[Store, AlarmLog]) -> None:
    store, log = stores
    heard(store, ALL, NOW)
    ev = Evaluator(CFG, log, ["log", "webhook"])
    ev.load(NOW)
    assert tick(ev, store, NOW + 10 * S) == []
    heard(store, [d for d in ALL if d != "turbine"], NOW + 50 * S)
    assert tick(ev, store, NOW + 61 * S) == ["pending:turbine"]
    heard(store, [d for d in ALL if d != "turbine"], NOW + 85 * S)
    assert tick(ev, store, NOW + 90 * S) == ["firing:turbine"]  # 60 s + for 30 s after it was last heard
    assert log.deliveries() == [], "group_wait: 5 s"
    tick(ev, store, NOW + 95 * S)
    sent = log.deliveries()
    assert {(d.channel, d.group_key, tuple(d.entries)) for d in sent} == {
        (ch, "district=north", ((sent[0].entries[0][0], "firing"),)) for ch in ("log", "webhook")
    }
    (alarm,) = log.alarms(AlarmQuery(states=("firing",)))
    assert alarm.notified_firing_ms == NOW + 95 * S

    # a restart: the new evaluator takes the firing alarm over, notifies nothing again
    ev2 = Evaluator(CFG, log, ["log", "webhook"])
    ev2.load(NOW + 100 * S)
    assert ev2.counts() == {"firing": 1, "pending": 0}
    heard(store, [d for d in ALL if d != "turbine"], NOW + 200 * S)
    assert tick(ev2, store, NOW + 200 * S) == []
    assert len(log.deliveries()) == 2
    assert [a.id for a in log.alarms(AlarmQuery(states=("firing",)))] == [alarm.id], "the same episode"

    # the turbine answers again: resolved, notified once, after the group's interval
    heard(store, ALL, NOW + 210 * S)
    assert tick(ev2, store, NOW + 211 * S) == ["resolved:turbine"]
    tick(ev2, store, NOW + 216 * S)
    resolved = [d for d in log.deliveries() if d.entries[0][1] == "resolved"]
    assert {d.channel for d in resolved} == {"log", "webhook"}
    assert ev2.tracked == {}, "nothing left owed"
    tick(ev2, store, NOW + 300 * S)
    assert len(log.deliveries()) == 4


def test_a_storm_is_one_message_per_district(stores: tuple[Store, AlarmLog]) -> None:
    store, log = stores
    heard(store, ALL, NOW)
    ev = Evaluator(CFG, log, ["log"])
    ev.load(NOW)
    tick(ev, store, NOW + 61 * S)  # every device silent: six alarms pending
    tick(ev, store, NOW + 91 * S)
    tick(ev, store, NOW + 96 * S)
    by_group = {d.group_key: len(d.entries) for d in log.deliveries()}
    assert by_group == {"district=north": 4, "district=south": 2}


def test_a_message_stored_before_a_crash_still_counts_as_notified(stores: tuple[Store, AlarmLog]) -> None:
    store, log = stores
    heard(store, ALL, NOW)
    ev = Evaluator(CFG, log, ["log"])
    ev.load(NOW)
    heard(store, [d for d in ALL if d != "battery"], NOW + 90 * S)
    tick(ev, store, NOW + 61 * S)
    tick(ev, store, NOW + 91 * S)
    (alarm,) = log.alarms(AlarmQuery(states=("firing",)))
    # the process dies after storing the message and before marking the alarm: the marks are lost
    ev.tracked = {alarm.id: alarm}
    ev.log = _DeliveriesOnly(log)  # type: ignore[assignment]
    ev.notify(NOW + 96 * S)
    assert log.alarm(alarm.id).notified_firing_ms is None  # type: ignore[union-attr]
    assert len(log.deliveries()) == 1
    ev2 = Evaluator(CFG, log, ["log"])
    ev2.load(NOW + 100 * S)
    heard(store, [d for d in ALL if d != "battery"], NOW + 110 * S)
    tick(ev2, store, NOW + 110 * S)
    assert len(log.deliveries()) == 1, "the stored delivery proves the notification: not sent again"
    assert log.alarm(alarm.id).notified_firing_ms == NOW + 96 * S  # type: ignore[union-attr]


class _DeliveriesOnly:
    """An alarm log whose process dies right after storing a message's deliveries."""

    def __init__(self, log: AlarmLog) -> None:
        self._log = log

    def __getattr__(self, name: str) -> object:
        return getattr(self._log, name)

    def commit_message(self, deliveries: list, notified: list) -> None:  # type: ignore[type-arg]
        for d in deliveries:
            self._log.save_delivery(d)

    def add_events(self, events: list) -> None:  # type: ignore[type-arg]
        pass


def test_silenced_alarms_fire_but_are_not_notified(stores: tuple[Store, AlarmLog]) -> None:
    from ville_autonome.journals.alarm_records import Silence

    store, log = stores
    heard(store, ALL, NOW)
    log.save_silence(Silence("s1", None, "hub", NOW, NOW + 120 * S, "works at the hub", "op", NOW))
    ev = Evaluator(CFG, log, ["log"])
    ev.load(NOW)
    heard(store, [d for d in ALL if d not in ("hub-meter", "homes-load")], NOW + 90 * S)
    tick(ev, store, NOW + 61 * S)
    tick(ev, store, NOW + 91 * S)
    tick(ev, store, NOW + 96 * S)
    assert {a.subject for a in log.alarms(AlarmQuery(states=("firing",)))} == {"hub-meter", "homes-load"}
    notified = {alarm_id for d in log.deliveries() for alarm_id, _ in d.entries}
    assert notified == {a.id for a in log.alarms(AlarmQuery(subject="homes-load"))}
    # the silence ends with the hub meter still silent: it is notified then
    heard(store, [d for d in ALL if d not in ("hub-meter", "homes-load")], NOW + 150 * S)
    tick(ev, store, NOW + 160 * S)
    assert {replace(d, body="").group_key for d in log.deliveries()} == {"district=north", "district=south"}
