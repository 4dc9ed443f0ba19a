"""A store's settings on each real backend the tests run: a SQLite file, or a database of the real
influxd 1.6 the tests start (tests/conftest.py). One place builds them: the ``store_backend`` and
``store_settings`` fixtures of tests/conftest.py, tests/storage/conftest.py and the module
fixtures that fill one store per backend (tests/autonomy, tests/dashboard_api) all use it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings

BACKENDS = ("sqlite", "influxdb")


def fresh_name() -> str:
    """A short unique lower-case name for a database or topic root."""
    return "t" + uuid.uuid4().hex[:10]


def settings_for(
    backend: str, directory: Path, influxd: Influxd, *, database: str | None = None, **options: Any
) -> StoreSettings:
    """``backend``'s settings: the file ``store.sqlite`` in ``directory``, or ``database`` (a fresh
    one when not given) in ``influxd``; ``options`` are further StoreSettings fields
    (``rollup_refresh_s=3600`` …)."""
    if backend == "sqlite":
        return StoreSettings(backend="sqlite", path=str(directory / "store.sqlite"), **options)
    if backend == "influxdb":
        return StoreSettings(backend="influxdb", url=influxd.url, database=database or fresh_name(), **options)
    raise ValueError(f"unknown store backend {backend!r} (known: {', '.join(BACKENDS)})")
