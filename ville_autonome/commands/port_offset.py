"""``--port-offset N`` of ``simulate`` and ``demo``: a second lab beside the first.

Every port the configuration names moves by N: each Modbus TCP device's ``HOST:PORT``, the
broker's URL and the API's port. Ports given on the command line (``--control-port``,
``demo --port`` and ``--mqtt-port``) are the caller's own and are used as given (the demo's
default broker port moves with the offset). Pure: a changed copy of the configuration.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.topology import PlatformConfig


def _moved(port: int, offset: int, what: str) -> int:
    moved = port + offset
    if not 0 < moved < 65536:
        raise ConfigError([f"--port-offset {offset}: {what} port {port} would become {moved}, outside 1…65535"])
    return moved


def with_port_offset(config: PlatformConfig, offset: int) -> PlatformConfig:
    """A copy of ``config`` with every configured port moved by ``offset`` (0: the same object)."""
    if offset == 0:
        return config
    cfg = config.model_copy(deep=True)
    for _, _, dev in cfg.devices():
        if dev.protocol == "modbus-tcp" and dev.address:
            host, _, port = dev.address.rpartition(":")
            dev.address = f"{host}:{_moved(int(port), offset, dev.id)}"
    mqtt = cfg.services.mqtt
    parts = urlsplit(mqtt.url)
    netloc = f"{mqtt.host}:{_moved(mqtt.port, offset, 'broker')}"
    mqtt.url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    cfg.services.api.port = _moved(cfg.services.api.port, offset, "API")
    return cfg
