"""secplan.sync."""
