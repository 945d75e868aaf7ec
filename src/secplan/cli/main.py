"""Entry point: builds the Typer app from the command modules and turns errors into messages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from secplan import __version__
from secplan.cli import catalog, check, handbook_cmds, serve, show, site, sync, tracker_cmds
from secplan.cli.common import err_console
from secplan.errors import SecplanError

app = typer.Typer(
    name="secplan",
    help="Security planning as code: check plans, keep the catalog, sync to a tracker, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"secplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Security planning as code."""


for module in (check, show, catalog, handbook_cmds, tracker_cmds, sync, serve, site):
    module.register(app)


def main() -> None:
    """Run the CLI; user-facing errors become ``Error:``/``Hint:`` lines, never tracebacks."""
    try:
        app()  # standalone: usage errors exit 2, typer.Exit carries its own code
    except SecplanError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
        if exc.hint:
            err_console.print(f"[bold]Hint:[/] {escape(exc.hint)}")
        sys.exit(exc.exit_code)
