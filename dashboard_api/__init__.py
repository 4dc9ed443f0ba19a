"""The HTTP API (FastAPI) and the web dashboard: live values, series, autonomy, reports, operations."""
