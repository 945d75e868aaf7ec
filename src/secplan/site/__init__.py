"""secplan.site."""
