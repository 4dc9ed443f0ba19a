"""Test support: real service processes (Mosquitto, influxd) on free loopback ports, waiting on
conditions with deadlines, and configuration builders."""
