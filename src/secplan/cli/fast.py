"""Start-up fast path: a well-formed ``secplan check`` command line runs without Typer.

Typer builds a pydantic adapter for every parameter of the command it runs, which costs more
than a small check itself. :func:`check_arguments` reads the common, unambiguous command lines
(the options of ``secplan check`` with valid values, in any order, as ``--opt value``,
``--opt=value`` or ``-f value``); anything else — ``--help``, an unknown option, a bad value,
``--`` — returns None, and the command line goes through Typer as before, so its help and its
usage errors stay the only ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from secplan.cli.check_run import FORMAT_NAMES, run
from secplan.errors import SecplanError

_VALUED = {
    "--format": "output_format",
    "-f": "output_format",
    "--root": "root",
    "--require": "require",
    "--select": "select",
    "--ignore": "ignore",
    "--database-url": "database_url",
}
_FLAGS = {"--fix": "fix", "--exit-zero": "exit_zero", "--statistics": "statistics"}


def check_arguments(args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of :func:`secplan.cli.check_run.run` for ``secplan check ARGS``;
    None when Typer should read the command line."""
    out: dict[str, Any] = {"paths": [], "root": None, "output_format": "text", "select": []}
    out["ignore"] = []
    require: str | None = None
    database_url: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            out["paths"].append(arg)
            continue
        if arg in _FLAGS:
            out[_FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if not eq and name.startswith("-f") and len(name) > 2 and not name.startswith("--"):
            name, eq, value = "-f", "=", name[2:]  # -fjson
        key = _VALUED.get(name)
        if key is None:
            return None  # --help, an unknown option, "-", "--"
        if not eq:
            if i >= len(args):
                return None  # Typer says what is missing
            value = args[i]
            i += 1
        if key == "output_format":
            if value.lower() not in FORMAT_NAMES:
                return None
            out[key] = value.lower()
        elif key == "root":
            if not value or Path(value).is_file():
                return None  # Typer reports it (the option takes a folder)
            out[key] = Path(value)
        elif key == "require":
            if value != "ready":
                return None
            require = value
        elif key == "database_url":
            database_url = value
        else:
            out[key].append(value)
    out["require_ready"] = require == "ready"
    out["database_url"] = database_url or os.environ.get("SECPLAN_DATABASE_URL") or None
    return out


def report_error(exc: SecplanError) -> None:
    """Print a user-facing error as ``Error:`` and ``Hint:`` lines on stderr, through the
    shared secrets redactor (a message may quote a URL or a driver's text)."""
    from rich.markup import escape

    from secplan.cli.common import err_console
    from secplan.redact import redact

    err_console.print(f"[bold red]Error:[/] {escape(redact(exc))}")
    if exc.hint:
        err_console.print(f"[bold]Hint:[/] {escape(redact(exc.hint))}")


def run_check(args: list[str]) -> int | None:
    """Run ``secplan check ARGS`` here and return its exit code; None: leave it to Typer."""
    arguments = check_arguments(args)
    if arguments is None:
        return None
    try:
        return run(**arguments)
    except SecplanError as exc:
        report_error(exc)
        return exc.exit_code


def main() -> None:
    """The ``secplan`` command: the fast path when it applies, else the Typer app."""
    args = sys.argv[1:]
    if args[:1] == ["check"]:
        code = run_check(args[1:])
        if code is not None:
            sys.exit(code)
    from secplan.cli.main import main as typer_main

    typer_main()
