"""Reading a plan's body line by line for the breakdown: bullets, outside code and comments."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_BULLET = re.compile(r"^( *)(?:[-*+]|\d{1,3}[.)])\s+(?!\[[ xX]\])(\S.*)$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)")
_HTML = re.compile(r"<[^>]{0,200}>")
# What is left of a link that starts or ends on another line, and bare URLs: in an item title
# they would read as references (and change the title the parser sees).
_LINK_REST = re.compile(r"\]\([^)\s]*\)?|[\[\]]|\bhttps?://\S+|\bwww\.\S+")
_SENTENCE = re.compile(r"(?<=[.!?;])\s")
MAX_TITLE = 120


@dataclass
class Bullet:
    """A top-level bullet (not a task-list item) and the text of its first line."""

    line: int
    text: str
    indent: int = 0  # spaces before the marker: 0-3 is a top-level bullet


def plain(markdown: str) -> str:
    """Inline Markdown as plain words: link texts kept, emphasis, code ticks and tags gone."""
    text = _LINK.sub(r"\1", markdown)
    text = _REF_LINK.sub(r"\1", text)
    text = _HTML.sub("", text)
    text = _LINK_REST.sub(" ", text)
    return " ".join(_EMPHASIS.sub("", text).split())


def title_of(markdown: str) -> str:
    """A work item title from a bullet: its first sentence, plain, without a trailing colon."""
    text = plain(markdown)
    first = _SENTENCE.split(text, maxsplit=1)[0].strip()
    first = first.rstrip(" .;:,")
    if len(first) > MAX_TITLE:
        cut = first[:MAX_TITLE].rsplit(" ", 1)[0]
        first = cut.rstrip(" ,;:") + "..."
    return first


def code_free_lines(lines: list[str]) -> list[bool]:
    """Per line: True when it is prose (not inside fenced code or an HTML comment)."""
    prose: list[bool] = []
    fence = ""
    comment = False
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            prose.append(False)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            prose.append(False)
            continue
        stripped = line.strip()
        if comment or stripped.startswith("<!--"):
            comment = "-->" not in stripped
            prose.append(False)
            continue
        prose.append(True)
    return prose


def open_fence(lines: list[str]) -> str | None:
    """The fence of a code block still open at the end of ``lines`` (it runs to the end)."""
    fence = ""
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
    return fence or None


def bullets(lines: list[str], first_line: int) -> list[Bullet]:
    """Bullets of the body (task-list items excluded), with their file lines and indents."""
    prose = code_free_lines(lines)
    found = []
    for index, line in enumerate(lines):
        if not prose[index]:
            continue
        match = _BULLET.match(line.rstrip("\r"))
        if match:
            found.append(Bullet(first_line + index, match.group(2), len(match.group(1))))
    return found
