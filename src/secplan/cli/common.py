"""Options and helpers shared by the command modules."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from secplan.config import find_config_root
from secplan.errors import UsageError
from secplan.termsafe import json_safe

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A rich Console made on first use: most runs (``check``, ``--version``) never print
    through one, and importing rich is a good part of their start-up."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from secplan.cli.safe_console import SafeConsole

            self._console = SafeConsole(**self._options)
        return getattr(self._console, name)


def real_console(lazy: Console) -> Console:
    """The Rich Console behind one of this module's lazy consoles, made now if need be: Rich's
    live displays (progress bars) enter their console as a context manager, which the lazy
    proxy cannot be."""
    if isinstance(lazy, _LazyConsole):
        _ = lazy.is_terminal  # makes the console
        assert lazy._console is not None
        return lazy._console
    return lazy


#: Normal output (tables, refs). JSON output is written with :func:`print_json` instead.
console: Console = _LazyConsole(highlight=False, soft_wrap=True)  # type: ignore[assignment]
#: Errors, warnings and progress: never mixed into stdout, so scripts can parse stdout.
err_console: Console = _LazyConsole(  # type: ignore[assignment]
    stderr=True, highlight=False, soft_wrap=True
)


class Format(StrEnum):
    """``--format`` of the commands that print either a readable report or one JSON document."""

    text = "text"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Handbook root (default: the nearest folder at or above the current directory with "
        "a secplan.toml, else the current directory).",
        file_okay=False,
        show_default=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SECPLAN_DATABASE_URL",
        help="Tracker database (default: SQLite file .secplan/secplan.db under the root).",
        show_default=False,
    ),
]


def resolve_root(root: Path | None) -> Path:
    """The handbook a command works on: ``--root``, else the nearest configured folder above
    the current directory (see :func:`secplan.config.find_config_root`), else the current one."""
    if root is not None:
        return root.resolve()
    cwd = Path.cwd().resolve()
    return find_config_root(cwd) or cwd


def resolve_root_argument(root_arg: Path | None, root: Path | None) -> Path:
    """:func:`resolve_root` for commands that also take the root as an argument (ROOT)."""
    if root_arg is not None and root is not None and root_arg.resolve() != root.resolve():
        raise UsageError("give the handbook root either as ROOT or as --root, not both")
    return resolve_root(root_arg or root)


def print_json(data: object) -> None:
    """Write one JSON document to stdout."""
    import json

    sys.stdout.write(json_safe(json.dumps(data, indent=2, default=str, ensure_ascii=False)))
    sys.stdout.write("\n")
    sys.stdout.flush()
