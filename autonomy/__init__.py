"""autonomy package."""
