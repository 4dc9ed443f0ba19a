"""The edge gateway: polls devices over Modbus and MQTT, buffers on disk, publishes the uplink (errors: gateway.errors.GatewayError)."""
