"""Ville Autonome 2050: the energy IoT platform of an energy-autonomous city, as one package.

Sub-packages by stage (the allowed import directions are the import-linter contract in
pyproject.toml, drawn in docs/architecture.md):

- ``commands``: the ``ville-autonome`` command line;
- ``dashboard_api``: the HTTP API and the web dashboard;
- ``reports``, ``gateway``, ``ingest``, ``simulators``: the services, independent of each other;
- ``autonomy_queries``, ``mqttlink``: reading the store into the engine; the MQTT connections;
- ``storage``: the store seam and its InfluxDB and SQLite backends;
- ``autonomy``, ``registers``: the autonomy engine; register profiles and their codec;
- ``readings``, ``configuration``: the measurement vocabulary; the configuration.

``gateway``, ``ingest``, ``dashboard_api`` and ``simulators`` live at the repository's root and
are mapped into this package when it is built (``ville_autonome/<name>`` links to them in a checkout).
"""
