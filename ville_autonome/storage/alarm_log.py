"""The alarm log (docs/alerts.md) beside the store, on both backends, through its own seam
(``storage.alarm_records.AlarmLog``) so that the store classes need nothing of it — the way the
audit log of commands does (``storage.command_log``):

- ``storage.alarm_log_sqlite.SqliteAlarmLog``: tables in the embedded store's SQLite file;
- ``storage.alarm_log_influx.InfluxAlarmLog``: measurements in the store's InfluxDB database.
"""

from __future__ import annotations

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.alarm_log_influx import InfluxAlarmLog
from ville_autonome.storage.alarm_log_sqlite import SqliteAlarmLog
from ville_autonome.storage.alarm_records import AlarmLog
from ville_autonome.storage.influx_http import InfluxHttp
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.sqlite_store import SqliteStore


def open_alarm_log(settings: StoreSettings) -> AlarmLog:
    """The alarm log in the configured store (its own connection)."""
    if settings.backend == "sqlite":
        return SqliteAlarmLog(settings.path, timeout_s=settings.timeout_s)
    http = InfluxHttp(
        settings.url,
        timeout_s=settings.timeout_s,
        token=settings.token.get_secret_value() if settings.token else None,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
    )
    http.ping()
    return InfluxAlarmLog(http, settings.database, org=settings.org, rp=settings.retention_policy, owns_http=True)


def alarm_log_for(store: object, settings: StoreSettings) -> AlarmLog:
    """The alarm log beside an open store (its file, or its server and database); for a store of
    another kind, the one ``settings`` name."""
    if isinstance(store, SqliteStore):  # an in-memory store gets an in-memory log of its own
        return SqliteAlarmLog(store.path, timeout_s=settings.timeout_s)
    if isinstance(store, InfluxStore):
        return InfluxAlarmLog(store.http, store.database, org=store.org, rp=store.retention_policy)
    return open_alarm_log(settings)
