"""``--format text`` (default): ruff-like ``path:line:col: CODE [*] message`` and a summary."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import TextIO

from secplan.lint.engine import CheckResult
from secplan.lint.registry import SEVERITY_ORDER, Finding

_COLOURS = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[34m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_CHUNK_LINES = 512


def use_colour(stream: TextIO) -> bool:
    """Colour for a terminal, unless NO_COLOR is set or the terminal is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary(result: CheckResult) -> list[str]:
    """The summary lines: counts by severity, fixed and fixable counts."""
    remaining = result.remaining()
    return summary_of(
        result.plans_checked,
        result.counts(),
        fixed=len(result.findings) - len(remaining),
        fixable=sum(1 for f in remaining if f.fixable),
    )


def summary_of(
    plans_checked: int, counts: Mapping[str, int], *, fixed: int, fixable: int
) -> list[str]:
    """The summary lines of a run that checked ``plans_checked`` plans, with ``counts`` of
    remaining findings by severity."""
    plans = _plural(plans_checked, "plan")
    total = sum(counts.values())
    if not total:
        head = "All checks passed!" if not fixed else f"Fixed {_plural(fixed, 'problem')}."
        return [f"{head} ({plans} checked)"]
    parts = [
        _plural(counts.get(sev, 0), sev, "info" if sev == "info" else None)
        for sev in ("error", "warning", "info")
        if counts.get(sev, 0)
    ]
    if fixed:
        parts.append(f"{fixed} fixed")
    lines = [f"Found {_plural(total, 'problem')} ({', '.join(parts)}) in {plans}."]
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return lines


def line_of(f: Finding, colour: bool) -> str:
    """One finding's line: ``path:line:col: CODE [*] message``."""
    mark = "[*] " if f.fixable else ""
    if colour:
        location = f"{_BOLD}{f.path}:{f.line}:{f.column}:{_RESET}"
        code = f"{_COLOURS.get(f.severity, '')}{_BOLD}{f.code}{_RESET}"
    else:
        location, code = f"{f.path}:{f.line}:{f.column}:", f.code
    return f"{location} {code} {mark}{f.message}\n"


def write(result: CheckResult, stream: TextIO, statistics: bool = False) -> None:
    """Stream one line per finding, then the summary.

    Plain string formatting, no Rich: colour is a few ANSI codes on a terminal. Lines go out
    in chunks, so a line-buffered terminal is not flushed once per finding.
    """
    colour = use_colour(stream)
    remaining = result.remaining()
    if statistics:
        write_statistics(result, stream)
    else:
        chunk: list[str] = []
        for f in remaining:
            chunk.append(line_of(f, colour))
            if len(chunk) == _CHUNK_LINES:
                stream.write("".join(chunk))
                chunk.clear()
        stream.write("".join(chunk))
    stream.write("".join(line + "\n" for line in summary(result)))


def write_statistics(result: CheckResult, stream: TextIO) -> None:
    """``--statistics``: one line per code with its count, severity and name."""
    remaining = result.remaining()
    counts = Counter(f.code for f in remaining)
    first: dict[str, Finding] = {}
    worst: dict[str, str] = {}
    for f in remaining:
        first.setdefault(f.code, f)
        # Escalation can give one code several severities; show the most severe.
        if SEVERITY_ORDER.get(f.severity, 9) < SEVERITY_ORDER.get(worst.get(f.code, ""), 9):
            worst[f.code] = f.severity
    for code in sorted(counts, key=lambda c: (-counts[c], c)):
        f = first[code]
        mark = "[*]" if f.fixable else "[ ]"
        stream.write(f"{counts[code]:>6}  {code}  {mark} {f.name} ({worst[code]})\n")
