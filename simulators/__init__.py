"""The living lab: simulated devices with real physics on Modbus TCP and MQTT, faults on demand, backfill (errors: simulators.errors.SimulatorError)."""
