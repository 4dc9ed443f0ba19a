"""Two evaluator services started on one store by mistake: one leads, the other stands by, the
webhook gets each notification once; the standby takes over when the leader stops, without
notifying again. The status file says who leads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.lab import config
from tests.alerts.receivers import WebhookReceiver
from tests.support.waiting import wait_for
from ville_autonome.alerts.service import AlertService
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log_sqlite import SqliteAlarmLog
from ville_autonome.journals.alarm_records import AlarmQuery
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.factory import open_store

DEVICES = ["plant-meter", "turbine", "homes-meter", "homes-load", "hub-meter", "battery"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


def test_two_evaluators_one_notification(tmp_path: Path, receiver: WebhookReceiver) -> None:
    cfg = config(
        "    - {id: silent, kind: device_silent, severity: critical, after_s: 2, for: 1s, match: {devices: [turbine]}}\n",
        f"  alerts:\n    evaluation_interval_s: 0.3\n    lease_ttl_s: 5\n    group_wait_s: 0\n    group_interval_s: 1\n"
        f"    mqtt: false\n    webhook_url: {receiver.url}\n    webhook_secret: s3cret-s3cret\n",
    )
    settings = StoreSettings(backend="sqlite", path=str(tmp_path / "store.sqlite"))
    store = open_store(settings)
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in cfg.devices()}

    def answer(devices: list[str]) -> None:
        now = int(time.time() * 1000)
        store.write([StoredReading(ctx[d], "active_power_w", now, 1.0) for d in devices])
        store.write_health([DeviceHealth(d, "gw-a", True, now, now) for d in devices])

    answer(DEVICES)
    services = []
    for name in ("first", "second"):
        c = cfg.model_copy(deep=True)
        c.services.alerts.status_file = str(tmp_path / f"status-{name}.json")
        services.append(AlertService(c, store, SqliteAlarmLog(settings.path), holder=name))
    first, second = services
    try:
        first.start()
        wait_for(lambda: first.leading, timeout=30, what="the first evaluator to lead")
        second.start()
        wait_for(lambda: second.stats.leader == "first", timeout=30, what="the second to see the first lead")
        # the turbine goes silent: one alarm, one notification, whichever evaluator runs
        log = SqliteAlarmLog(settings.path)
        wait_for(lambda: log.alarms(AlarmQuery(states=("firing",))), timeout=30, what="the alarm to fire")
        wait_for(lambda: receiver.received, timeout=30, what="the webhook")
        assert not second.leading
        status = json.loads((tmp_path / "status-second.json").read_text())
        assert (status["role"], status["leader"], status["healthy"]) == ("standby", "first", True)
        # the leader stops: the standby takes over, and does not notify the firing alarm again
        first.stop()
        wait_for(lambda: second.leading, timeout=30, what="the standby to take over")
        evaluations = second.stats.evaluations
        wait_for(lambda: second.stats.evaluations >= evaluations + 5, timeout=30, what="five evaluations")
        firing = [json.loads(r.body) for r in receiver.received]
        assert [(m["status"], [a["subject"] for a in m["alarms"]]) for m in firing] == [("firing", ["turbine"])]
        answer(DEVICES)  # the turbine is back
        wait_for(lambda: len(receiver.received) == 2, timeout=30, what="the resolution")
        assert json.loads(receiver.received[1].body)["status"] == "resolved"
        log.close()
    finally:
        for s in services:
            if s._threads:
                s.stop()
            s.log.close()
        store.close()
