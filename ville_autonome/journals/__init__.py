"""Durable logs of events beside the store, on either backend: alarm events and device commands."""
