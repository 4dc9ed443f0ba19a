"""dashboard_api package."""
