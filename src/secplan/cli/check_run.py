"""What ``secplan check`` does once its options are parsed, without the CLI framework.

Both the Typer command (:mod:`secplan.cli.check`) and the start-up fast path
(:mod:`secplan.cli.fast`) call :func:`run`; it imports nothing of Typer, pydantic or rich
unless it has a warning to print.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from secplan.config import find_config_root

FORMAT_NAMES = ("text", "json", "gitlab", "sarif", "github")


def run(
    paths: list[str],
    root: Path | None,
    output_format: str,
    *,
    require_ready: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    fix: bool = False,
    exit_zero: bool = False,
    statistics: bool = False,
    database_url: str | None = None,
) -> int:
    """Check, write the findings to stdout, and return the exit code (0, or 1 on errors)."""
    from secplan.lint.formats import FORMATS, text
    from secplan.lint.runner import CheckOptions, resolve_targets, run_check
    from secplan.lint.snapshot import Rendering

    cwd = Path.cwd()
    targets = resolve_targets(paths, root or find_config_root(cwd), cwd)
    options = CheckOptions(
        select=select or [],
        ignore=ignore or [],
        require_ready=require_ready,
        fix=fix,
        database_url=database_url,
    )
    if output_format in ("text", "json") and not (statistics or fix):
        colour = output_format == "text" and text.use_colour(sys.stdout)
        options.rendering = Rendering(output_format, colour)
    result = run_check(targets, options, cwd)
    try:
        if result.rendered is not None:
            buffer = getattr(sys.stdout, "buffer", None)
            utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
            if buffer is None or not utf8:  # a text-only stream, or another encoding
                sys.stdout.write(b"".join(result.rendered[0]).decode())
            else:
                sys.stdout.flush()
                buffer.writelines(result.rendered[0])
        elif output_format == "text":
            text.write(result, sys.stdout, statistics=statistics)
        else:
            FORMATS[output_format](result, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # `secplan check | head`: the reader left; say nothing more, exit as a failed write.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    if result.notes:
        from rich.markup import escape

        from secplan.cli.common import err_console

        for note in result.notes:
            err_console.print(f"[bold yellow]Warning:[/] {escape(note)}")
    return 1 if result.has_errors and not exit_zero else 0
