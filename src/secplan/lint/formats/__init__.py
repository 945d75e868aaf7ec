"""Output formats for ``secplan check``: text (ruff-like), json, gitlab, sarif, github.

Each writer takes the findings to show (already sorted) and writes to a text stream; the text
writer streams line by line, the JSON-shaped ones write one document.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TextIO

from secplan.lint.engine import CheckResult

Writer = Callable[[CheckResult, TextIO], None]


def _writer(module: str) -> Writer:
    # A run writes one format: the others' modules (json, hashlib, urllib for SARIF) are
    # imported only when asked for, which keeps a small check's start-up short.
    def write(result: CheckResult, stream: TextIO) -> None:
        import_module(f"{__name__}.{module}").write(result, stream)

    write.__name__ = f"write_{module}"
    return write


FORMATS: dict[str, Writer] = {
    "text": _writer("text"),
    "json": _writer("json_format"),
    "gitlab": _writer("gitlab"),
    "sarif": _writer("sarif"),
    "github": _writer("github"),
}

__all__ = ["FORMATS", "Writer", "write"]


def write(result: CheckResult, fmt: str, stream: TextIO) -> None:
    """Write ``result`` in format ``fmt`` (one of :data:`FORMATS`) to ``stream``."""
    FORMATS[fmt](result, stream)
