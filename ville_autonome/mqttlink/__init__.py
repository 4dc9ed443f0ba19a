"""The platform's MQTT connections (paho-mqtt 2.x): one factory that applies the settings
(protocol version, credentials, TLS, keepalive) the same way for gateways, ingest and tools."""

from ville_autonome.mqttlink.client import (
    BrokerCertificateError,
    BrokerUnreachableError,
    connect_blocking,
    connect_problem,
    make_client,
)

__all__ = ["BrokerCertificateError", "BrokerUnreachableError", "connect_blocking", "connect_problem", "make_client"]
