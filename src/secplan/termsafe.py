"""Plan text made harmless for a terminal: control characters shown, never obeyed.

Plan files are hostile input. Titles, ids and messages that reach the terminal raw could carry
ESC sequences (move the cursor, rewrite what was printed, OSC 52 writes the reader's clipboard),
BEL, or bidirectional overrides that make text read differently from what it is. Every C0
control except newline and tab, DEL, every C1 control and the bidirectional controls become
visible escapes (``\\x1b``, ``\\u202e``), so the reader sees that they are there.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def termsafe(text: str) -> str:
    """``text`` with every control character a terminal would act on written as an escape."""
    return _UNSAFE.sub(_visible, text) if _UNSAFE.search(text) else text


def json_safe(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the controls it leaves raw
    (DEL, C1, bidirectional controls) written as ``\\uXXXX`` escapes: the same JSON value."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)
