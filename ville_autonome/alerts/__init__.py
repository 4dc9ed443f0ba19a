"""Alarms: rules of the configuration's ``alerts:`` section evaluated against the store, a state
machine (pending → firing → resolved), acknowledgements and silences, notifications grouped per
interval to a webhook, e-mail and MQTT (docs/alerts.md). The service is ``alerts.service``; the
pure parts are ``conditions``, ``state``, ``grouping``, ``messages`` and ``lease``.
"""
