"""The platform's MQTT connections (paho-mqtt 2.x): one factory that applies the settings
(protocol version, credentials, TLS, keepalive) the same way for gateways, ingest and tools, and
names another process using a client's id (:mod:`mqttlink.takeover`)."""

from ville_autonome.mqttlink.client import (
    BrokerCertificateError,
    BrokerUnreachableError,
    client_id_collision,
    connect_blocking,
    connect_problem,
    make_client,
)

__all__ = [
    "BrokerCertificateError",
    "BrokerUnreachableError",
    "client_id_collision",
    "connect_blocking",
    "connect_problem",
    "make_client",
]
