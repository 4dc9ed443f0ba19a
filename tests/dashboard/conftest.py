"""Fixtures of the browser tests that open the live city: a module's own API and its own browser."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.livedata import LIVE, health, write_now
from tests.dashboard.server import ApiProcess, with_keys
from tests.reports.citydata import city_config
from ville_autonome.storage.factory import open_store


@pytest.fixture(scope="module")
def live_city_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of the real API process (``ville-autonome api``) serving the city's live values and
    device health from a SQLite store, with the test keys of ``server.KEYS``; one per module."""
    tmp = tmp_path_factory.mktemp("live-city")
    config = with_keys(city_config(str(tmp / "city.sqlite")))
    store = open_store(config.services.store)
    now = int(time.time() * 1000)
    write_now(store, config, LIVE, now)
    store.write_health(health(config, now))
    try:
        with ApiProcess(config, tmp) as srv:
            yield srv.url
    finally:
        store.close()


@pytest.fixture(scope="module")
def desktop_tab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A page of 1600 × 1000 in the module's own headless Chromium."""
    with Chromium(tmp_path_factory.mktemp("chromium")) as browser:
        yield browser.new_page(1600, 1000)
