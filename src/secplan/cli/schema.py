"""Command: ``secplan schema`` (the front matter's JSON Schema, for editors)."""

from __future__ import annotations

import typer


def schema() -> None:
    """Print the JSON Schema of a plan's front matter (draft 2020-12).

    Point a YAML language server at it, for example with a first front-matter line
    ``# yaml-language-server: $schema=front-matter.schema.json`` after
    ``secplan schema > front-matter.schema.json``.
    """
    from secplan.cli.common import print_json
    from secplan.markdown.fields import front_matter_schema

    print_json(front_matter_schema())


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("schema")(schema)
