"""The city the alarm pages are tested on: live values, device health, the given alarm rules, and
its store and alarm log (closed on exit)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.dashboard.livedata import LIVE, health, write_now
from tests.dashboard.server import with_keys
from tests.reports.citydata import city_config
from ville_autonome.configuration import PlatformConfig
from ville_autonome.journals.alarm_log import alarm_log_for
from ville_autonome.journals.alarm_records import AlarmLog
from ville_autonome.storage.factory import open_store


@contextmanager
def alarm_city(tmp: Path, rules: list[dict[str, Any]]) -> Iterator[tuple[PlatformConfig, AlarmLog]]:
    data = with_keys(city_config(str(tmp / "city.sqlite"))).model_dump(mode="python")
    data["alerts"] = {"rules": rules}
    config = PlatformConfig.model_validate(data)
    store = open_store(config.services.store)
    now = int(time.time() * 1000)
    write_now(store, config, LIVE, now)
    store.write_health(health(config, now))
    log = alarm_log_for(store, config.services.store)
    try:
        yield config, log
    finally:
        log.close()
        store.close()
