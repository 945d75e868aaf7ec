"""``secplan build``: the web UI's pages as a static site (GitLab Pages), searchable and checked.

See :func:`secplan.site.builder.build`.
"""
