"""Open the configured store: ``open_store(settings) -> Store``.

::

    StoreStartupError (configuration.errors.ServiceUnreachableError)
        the configured store cannot be opened or reached at start-up (one clear line)
"""

from __future__ import annotations

from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.base import Store, StoreError
from ville_autonome.storage.influx_http import InfluxHttp
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.sqlite_store import SqliteStore


class StoreStartupError(ServiceUnreachableError):
    """The store does not answer, or refuses the configured database, at start-up."""


def open_store(settings: StoreSettings) -> Store:
    """The backend ``settings.backend`` names, connected and ready (database created where the
    server allows it). Raises :class:`StoreStartupError` if it cannot be used."""
    if settings.backend == "sqlite":
        try:
            return SqliteStore(
                settings.path,
                raw_retention_days=settings.raw_retention_days,
                timeout_s=settings.timeout_s,
            )
        except StoreError as exc:
            raise StoreStartupError(f"embedded store {settings.path}: {exc}") from None
    http = InfluxHttp(
        settings.url,
        timeout_s=settings.timeout_s,
        token=settings.token.get_secret_value() if settings.token else None,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
    )
    store = InfluxStore(
        http,
        database=settings.database,
        retention_policy=settings.retention_policy,
        org=settings.org,
        raw_retention_days=settings.raw_retention_days,
    )
    try:
        store.connect()
    except StoreError as exc:
        http.close()
        raise StoreStartupError(f"{exc} (database {settings.database!r})") from None
    if http.major >= 2 and not settings.token:
        http.close()
        raise StoreStartupError(f"InfluxDB {store.version} at {settings.url} needs services.store.token")
    return store
