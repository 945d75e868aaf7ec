"""Entry point: builds the Typer app from the command modules and turns errors into messages."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from secplan import __version__
from secplan.cli.fast import report_error
from secplan.cli.help_text import install as install_help_text
from secplan.errors import SecplanError

install_help_text()

#: The command modules, each with a ``register(app)``, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "init",
    "check",
    "show",
    "breakdown",
    "catalog",
    "handbook_cmds",
    "tracker_cmds",
    "sync",
    "serve",
    "site",
    "review",
    "schema",
)
#: Which module registers each top-level command. A run imports only the module of the command
#: it runs (start-up is most of a small check); ``--help`` and unknown words import them all.
COMMANDS = {
    "init": "init",
    "check": "check",
    "show": "show",
    "breakdown": "breakdown",
    "catalog": "catalog",
    "new": "handbook_cmds",
    "adopt": "handbook_cmds",
    "issue": "tracker_cmds",
    "epic": "tracker_cmds",
    "milestone": "tracker_cmds",
    "promote": "tracker_cmds",
    "plan": "sync",
    "apply": "sync",
    "coverage": "sync",
    "status": "sync",
    "serve": "serve",
    "build": "site",
    "review": "review",
    "schema": "schema",
}

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


_registered: set[str] = set()


def register_commands(args: Sequence[str] | None = None) -> typer.Typer:
    """Register the commands ``args`` (the command line, program name excluded) can run.

    ``None`` registers every command.
    """
    if args is not None and list(args) == ["--version"]:
        modules: tuple[str, ...] = ()
    elif args and args[0] in COMMANDS:
        modules = (COMMANDS[args[0]],)
    else:
        modules = COMMAND_MODULES
    for name in modules:
        if name not in _registered:
            _registered.add(name)
            importlib.import_module(f"secplan.cli.{name}").register(app)
    return app


def main() -> None:
    """Run the CLI; user-facing errors become ``Error:``/``Hint:`` lines, never tracebacks."""
    try:
        register_commands(sys.argv[1:])
        app()  # standalone: usage errors exit 2, typer.Exit carries its own code
    except SecplanError as exc:
        report_error(exc)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # A full disk, a damaged schema, a read-only database: an Error line, not a traceback.
        from secplan.store.failures import as_error

        error = as_error(exc)
        if error is None:
            raise
        report_error(error)
        sys.exit(error.exit_code)
