"""The edge gateway: polls devices over Modbus and MQTT, buffers on disk, publishes the uplink."""
