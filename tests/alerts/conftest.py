"""Fixtures of tests/alerts: ``settings``, the alarm log's store on each backend, is tests/conftest.py's
``store_settings`` under the name these tests use (a SQLite file, a database of the real influxd)."""

from __future__ import annotations

import pytest

from ville_autonome.configuration.services import StoreSettings


@pytest.fixture
def settings(store_settings: StoreSettings) -> StoreSettings:
    return store_settings
