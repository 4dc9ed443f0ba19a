"""schemathesis against the API's own OpenAPI document, over real HTTP, on SQLite holding a small city.

The Amiens configuration (config/amiens.yaml), whose ids are the document's examples, with two days
of the simulators' backfill in SQLite and a few readings "now". The app runs under uvicorn in a
thread (tests/dashboard_api/serving.py). schemathesis takes the app's document (the one it serves at
``/api/v1/openapi.json``) and, for every operation, sends generated requests over HTTP (valid and
invalid per the document) with an admin key, then checks: no 5xx, status codes, content types
and bodies as documented, invalid input refused with a 4xx, and a 401 when the key is left out
(``ignored_auth``). A second run sends no key at all: only 401s (``/health`` needs none).

Left out, on purpose:
- ``/api/v1/stream`` is an endless Server-Sent Events stream (tests/dashboard_api/test_end_to_end.py
  covers it over real HTTP);
- ``/api/v1/reports`` renders PDFs, over periods up to a year (any period string is schema-valid):
  too slow for a fuzzer's examples; tests/reports/ cover the route, and test_malformed_requests.py
  its bad parameters;
- ``POST /api/v1/devices/{device}/commands`` sends a command through the broker (none here: a valid
  command is a documented 503); tests/gateway/test_commands.py covers it with Mosquitto, the gateway
  and the simulated battery.
Examples per operation are few (``EXAMPLES``) so that the file runs in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from tests.dashboard_api.serving import serve_in_thread
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.services import ApiKey, StoreSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.deps import digest
from ville_autonome.dashboard_api.errors import ERROR_SCHEMA
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.simulators.backfill import generate
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "schemathesis-admin-key-0123456789"
START = 1_767_222_000_000  # 2026-01-01T00:00+01:00, the day of the document's autonomy example
DAY_MS = 86_400_000
EXAMPLES = 15
LEFT_OUT = ("/api/v1/stream", "/api/v1/reports", "/api/v1/devices/{device}/commands")
# An id the topology does not know is a documented 400 (docs/api.md); the document's types cannot
# say which strings are ids, so a schema-valid request may get it. 5xx stay failures (not_a_server_error).
ACCEPTED = ["2xx", "400", "401", "403", "404", "429"]
pytestmark = pytest.mark.slow  # seconds on a quiet machine, minutes on a loaded one: scheduled first


def amiens_config() -> PlatformConfig:
    """config/amiens.yaml with one admin key, and no rate limit in reach of a generator."""
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})
    api = config.services.api.model_copy(
        update={"keys": [ApiKey(name="fuzz", role="admin", sha256=digest(ADMIN_KEY))], "rate_limit_per_minute": 10**6}
    )
    return config.model_copy(update={"services": config.services.model_copy(update={"api": api})})


def write_city(store: Store, config: PlatformConfig, now_ms: int) -> None:
    """Two days of backfill from ``START`` (15-min steps), the latest values, health and a sequence gap."""
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    batch = [
        StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality)
        for r in generate(config, START - 900_000, START + 2 * DAY_MS, 900)
    ]
    batch += [StoredReading(ctx["iko-turbine"], "active_power_w", now_ms - 1000 * i, 41_000.0 + i) for i in range(3)]
    for i in range(0, len(batch), 5000):
        store.write(batch[i : i + 5000])
    store.write_health([DeviceHealth("iko-turbine", "gw-saint-leu", True, now_ms - 1000, now_ms)])
    store.record_sequences("gw-saint-leu", [1, 2, 5], worker="w1", received_ms=now_ms)
    store.refresh_rollups()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, PlatformConfig]]:
    path = tmp_path_factory.mktemp("schemathesis") / "amiens.sqlite"
    store = open_store(StoreSettings(backend="sqlite", path=str(path), rollup_refresh_s=3600))
    config = amiens_config()
    try:
        write_city(store, config, START + 2 * DAY_MS)
        yield store, config
    finally:
        store.close()


@pytest.fixture
def base_url(city: tuple[Store, PlatformConfig]) -> Iterator[str]:
    """A server per test: its worker threads end with it (the leak check of tests/conftest.py)."""
    store, config = city
    with serve_in_thread(create_app(config, store)) as url:
        yield url


# The document the served app publishes (test_the_document_is_the_served_one checks that). Loaded at
# import time: schemathesis' lazy ``from_fixture`` loader does not run under pytest 9.2 (it sets
# ``Function._nodeid``, which pytest no longer has).
DOCUMENT = create_app(amiens_config()).openapi()
# schemathesis gives up on an answer after 10 s by default: a city-year scenario on a loaded machine takes longer
CONFIG = SchemathesisConfig.from_dict(
    {"request-timeout": 120, "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
)
schema: BaseSchema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
for left_out in LEFT_OUT:
    schema = schema.exclude(path=left_out)

FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # one server for all the examples of a test, on purpose
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


def test_the_document_is_the_served_one(base_url: str) -> None:
    assert requests.get(f"{base_url}/api/v1/openapi.json", timeout=10).json() == DOCUMENT


def test_every_error_answer_is_documented_with_its_shape() -> None:
    """So that schemathesis checks the bodies of 4xx answers too (``response_schema_conformance``)."""
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    shape = response["content"]["application/json"]["schema"]
                    assert shape["required"] == ERROR_SCHEMA["required"], (method, path, code)
                    assert set(shape["properties"]) == {"error", "detail", "parameter"}, (method, path, code)


@schema.parametrize()
@FAST
def test_every_operation_with_an_admin_key_answers_as_documented(case: Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})


# without a key the answer is decided before any parameter is read: a few examples per operation
# (its undocumented methods among them) show it; the parameters get FAST's examples above
NO_KEY = settings(FAST, max_examples=5)


@schema.parametrize()
@NO_KEY
def test_every_operation_without_a_key_is_401_never_5xx(case: Case, base_url: str) -> None:
    response = case.call(base_url=base_url)
    what = (case.method, case.path, case.headers, case.query, response.text)
    if case.method.upper() != case.operation.method.upper():
        # schemathesis also tries undocumented methods: routing answers them before any key is read
        assert response.status_code == 405, what
    elif case.path == "/api/v1/health":
        assert response.status_code == 200, what
    else:
        assert response.status_code == 401, what
        assert response.json()["error"] == "unauthorized"
