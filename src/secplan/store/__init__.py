"""secplan.store."""
