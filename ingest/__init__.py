"""The central ingest: uplink envelopes validated, written to the store, acknowledged after the write."""
