"""An in-process MQTT broker (amqtt, MQTT 3.1.1) for the zero-setup ``demo`` run.

Production and tests use Mosquitto (docs/broker.md); this broker only lets ``make demo`` run
without installing anything. It listens on loopback and allows anonymous clients.
"""

from __future__ import annotations

import logging
import socket

from amqtt.broker import Broker

from ville_autonome.configuration.errors import PortInUseError

log = logging.getLogger(__name__)


def _check_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"cannot start the embedded MQTT broker on {host}:{port}: {exc.strerror} (choose another with --mqtt-port)"
            ) from None


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 18830) -> None:
        self.host = host
        self.port = port
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        _check_free(self.host, self.port)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config)
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s", self.url)

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
