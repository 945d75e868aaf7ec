"""secplan.markdown."""
