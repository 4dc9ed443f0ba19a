"""Every backend behind one ``store`` fixture: the same tests run against SQLite, the real influxd
1.6 the tests start, and each external server named in ``VA_TEST_INFLUX_URLS`` (tests/storage/external.py).
Without external servers the summary says so in a ``NOT RUN`` line.

``store_settings`` here overrides tests/conftest.py's: the external servers too, and the database
left for the store under test to make."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.external import ENV, ExternalInflux, external_servers
from tests.support.services import Influxd
from tests.support.stores import BACKENDS as LOCAL_BACKENDS
from tests.support.stores import settings_for
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

EXTERNAL = external_servers()
BACKENDS: list[str | ExternalInflux] = [*LOCAL_BACKENDS, *EXTERNAL]


@pytest.fixture(params=BACKENDS, ids=lambda b: b if isinstance(b, str) else b.id)
def store_settings(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str, influxd: Influxd
) -> Iterator[StoreSettings]:
    # influxd is a session fixture requested up front (started before the per-test leak check)
    backend = request.param
    if isinstance(backend, str):
        yield settings_for(backend, tmp_path, influxd, database=unique_name)
    else:
        assert isinstance(backend, ExternalInflux)
        with backend.database(unique_name) as settings:
            yield settings


@pytest.fixture
def store(store_settings: StoreSettings) -> Iterator[Store]:
    s = open_store(store_settings)
    yield s
    s.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ran = any(
        "test_store_contract.py" in r.nodeid
        for rs in terminalreporter.stats.values()
        for r in rs
        if hasattr(r, "nodeid")
    )
    if ran and not EXTERNAL:
        terminalreporter.write_line(
            f"NOT RUN: the store contract against other InfluxDB versions (1.8, 1.12 as deployed, 2.x, 3 Core): no server named in {ENV} "
            "(tests/storage/external.py); run here: SQLite and influxd 1.6 only",
            yellow=True,
            bold=True,
        )
