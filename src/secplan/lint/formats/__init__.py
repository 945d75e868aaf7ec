"""Output formats for ``secplan check``: text (ruff-like), json, gitlab, sarif, github.

Each writer takes the findings to show (already sorted) and writes to a text stream; the text
writer streams line by line, the JSON-shaped ones write one document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from secplan.lint.engine import CheckResult
from secplan.lint.formats import github, gitlab, json_format, sarif, text

Writer = Callable[[CheckResult, TextIO], None]

FORMATS: dict[str, Writer] = {
    "text": text.write,
    "json": json_format.write,
    "gitlab": gitlab.write,
    "sarif": sarif.write,
    "github": github.write,
}

__all__ = ["FORMATS", "Writer", "write"]


def write(result: CheckResult, fmt: str, stream: TextIO) -> None:
    """Write ``result`` in format ``fmt`` (one of :data:`FORMATS`) to ``stream``."""
    FORMATS[fmt](result, stream)
