"""secplan.web."""
