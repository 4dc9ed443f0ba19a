"""Register maps (device profiles) as YAML data, and the pure codec between register words and
values. Shared by the gateway (decoding) and the simulators (encoding)."""
