"""The alarm log (docs/alerts.md) beside the store, on both backends, through its own seam
(``journals.alarm_records.AlarmLog``) so that the store classes need nothing of it:

- ``journals.alarm_log_sqlite.SqliteAlarmLog``: tables in the embedded store's SQLite file;
- ``journals.alarm_log_influx.InfluxAlarmLog``: measurements in the store's InfluxDB database.
"""

from __future__ import annotations

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log_influx import InfluxAlarmLog
from ville_autonome.journals.alarm_log_sqlite import SqliteAlarmLog
from ville_autonome.journals.alarm_records import AlarmLog
from ville_autonome.journals.backends import journal_beside, open_journal


def open_alarm_log(settings: StoreSettings) -> AlarmLog:
    """The alarm log in the configured store (its own connection)."""
    return open_journal(settings, SqliteAlarmLog, InfluxAlarmLog)


def alarm_log_for(store: object, settings: StoreSettings) -> AlarmLog:
    """The alarm log beside an open store (its file, or its server and database); for a store of
    another kind, the one ``settings`` name. An in-memory store gets an in-memory log of its own."""
    return journal_beside(store, settings, SqliteAlarmLog, InfluxAlarmLog)
