"""The ``secplan`` command line. Each module registers a few thin commands on the app."""
