"""``--format github``: GitHub Actions workflow commands (annotations on the changed files)."""

from __future__ import annotations

from typing import TextIO

from secplan.lint.engine import CheckResult

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def write(result: CheckResult, stream: TextIO) -> None:
    """One ``::error file=...,line=...,col=...,title=...::message`` line per finding."""
    for f in result.remaining():
        command = COMMAND.get(f.severity, "warning")
        props = (
            f"file={_prop(f.path)},line={f.line},col={f.column},"
            f"title={_prop(f'{f.code} ({f.name})')}"
        )
        stream.write(f"::{command} {props}::{_data(f'{f.code} {f.message}')}\n")
