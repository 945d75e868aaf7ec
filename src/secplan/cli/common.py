"""Options and helpers shared by the command modules."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.segment import Segment

from secplan.config import find_config_root
from secplan.errors import UsageError
from secplan.termsafe import json_safe, termsafe


class SafeConsole(Console):
    """A console that shows control characters in printed text instead of sending them.

    Plan text reaches the terminal through many ``print`` calls and tables; escaping the text of
    every rendered segment (never rich's own styling, added later) covers them all at once.
    """

    def render(self, renderable: Any, options: Any = None) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            if segment.control:
                yield segment
            else:
                yield Segment(termsafe(segment.text), segment.style)


#: Normal output (tables, refs). JSON output is written with :func:`print_json` instead.
console = SafeConsole(highlight=False, soft_wrap=True)
#: Errors, warnings and progress: never mixed into stdout, so scripts can parse stdout.
err_console = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


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
