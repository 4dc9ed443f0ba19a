"""The platform's MQTT connections (paho-mqtt 2.x): one factory that applies the settings
(protocol version, credentials, TLS, keepalive) the same way for gateways, ingest and tools."""

from ville_autonome.mqttlink.client import BrokerUnreachableError, connect_blocking, make_client

__all__ = ["BrokerUnreachableError", "connect_blocking", "make_client"]
