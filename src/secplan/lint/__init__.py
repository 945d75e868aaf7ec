"""secplan.lint."""
