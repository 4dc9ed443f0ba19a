"""The platform's InfluxDB schema on the wire (pure, no I/O): line protocol, InfluxQL quoting, and
rows of an InfluxQL answer read back into the platform's values."""
