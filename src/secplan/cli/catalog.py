"""Command: ``secplan catalog`` — print or rewrite the catalog table."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from secplan.cli.common import RootOption, err_console, print_json, resolve_root
from secplan.termsafe import termsafe


class CatalogFormat(StrEnum):
    markdown = "markdown"
    json = "json"


def catalog(
    root: RootOption = None,
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite the table on the catalog page in place.")
    ] = False,
    fmt: Annotated[
        CatalogFormat, typer.Option("--format", help="Output format.")
    ] = CatalogFormat.markdown,
) -> None:
    """Print the catalog table of every plan, or rewrite it on the catalog page with --write.

    --write needs the catalog page's marker lines (exit 1 with a hint to run 'secplan adopt'
    when they are missing); printing works on any handbook.
    """
    from secplan.handbook import load_handbook
    from secplan.handbook.catalog import (
        catalog_json,
        catalog_status,
        no_markers_error,
        render_catalog_table,
        write_catalog,
    )

    handbook = load_handbook(resolve_root(root))
    if write:
        changed = write_catalog(handbook)
        where = handbook.catalog_path
        err_console.print(
            f"{where}: {'catalog updated' if changed else 'catalog already up to date'}"
        )
        return
    status = catalog_status(handbook)
    if not status.has_markers:
        # Printing still works (a preview before adopting), but the user learns the page is
        # not kept up to date; stdout stays clean for scripts.
        err = no_markers_error(status.path)
        err_console.print(f"Note: {escape(str(err))}")
        if err.hint:
            err_console.print(f"Hint: {escape(err.hint)}")
    if fmt is CatalogFormat.json:
        print_json(catalog_json(handbook))
    else:
        sys.stdout.write(termsafe(render_catalog_table(handbook)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("catalog")(catalog)
