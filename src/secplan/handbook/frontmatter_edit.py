"""Change a few front-matter keys of a plan file and leave every other byte alone.

The YAML is read with ruamel.yaml's round-trip loader, which knows where each top-level key
starts. Only the text of the keys being changed is regenerated (by ruamel.yaml, comments inside
those values kept); every other key, comment, blank line, quoting choice and the Markdown body
stay byte-identical. Appending to a block-style list (``resources:``) keeps the existing entries'
text too and adds the new entries below them, indented like their neighbours.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from secplan.errors import SecplanError

_OPEN_RE = re.compile(r"\A---[ \t]*\r?\n")
_CLOSE_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)
_SEQ_ITEM_RE = re.compile(r"^( *)- ", re.M)


@dataclass
class FrontMatterEdit:
    """What to change: keys to set (replacing their value) and list entries to append."""

    set: dict[str, Any] = field(default_factory=dict)
    append: dict[str, list[Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.set) or any(self.append.values())


@dataclass
class _Split:
    head: str  # the opening fence line
    yaml: str  # the YAML text (ends with a newline, or is empty)
    tail: str  # the closing fence line and the body, untouched


def _split(text: str) -> _Split | None:
    m = _OPEN_RE.match(text)
    if not m:
        return None
    close = _CLOSE_RE.search(text, m.end())
    if close is None:
        return None
    return _Split(text[: m.end()], text[m.end() : close.start()], text[close.start() :])


def body_offset(text: str) -> int:
    """Character offset where the Markdown body starts: after the closing fence line, or 0."""
    split = _split(text)
    if split is None:
        return 0
    fence_end = split.tail.find("\n")
    return len(text) - (0 if fence_end == -1 else len(split.tail) - fence_end - 1)


def _yaml(seq_indent: int) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold long titles or URLs onto a second line
    if seq_indent:
        y.indent(mapping=2, sequence=seq_indent + 2, offset=seq_indent)
    else:
        y.indent(mapping=2, sequence=2, offset=0)
    return y


def _dump(value: Any, seq_indent: int) -> str:
    buf = io.StringIO()
    _yaml(seq_indent).dump(value, buf)
    return buf.getvalue()


def _seq_indent_style(yaml_text: str) -> int:
    """How far list items are indented under their key in this file (2 when there are none)."""
    m = _SEQ_ITEM_RE.search(yaml_text)
    return len(m.group(1)) if m else 2


def _plain(value: Any) -> Any:
    """Convert ruamel's commented containers to plain Python for equality checks."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _block_ranges(data: CommentedMap, lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first line, end line exclusive) of its text, 0-based.

    Trailing blank lines and column-0 comments belong to whatever follows, so they stay put.
    """
    keys = list(data.keys())
    starts = [data.lc.key(k)[0] for k in keys]
    ranges: dict[str, tuple[int, int]] = {}
    for i, key in enumerate(keys):
        end = starts[i + 1] if i + 1 < len(keys) else len(lines)
        while end > starts[i] + 1 and (
            not lines[end - 1].strip() or lines[end - 1].startswith("#")
        ):
            end -= 1
        ranges[str(key)] = (starts[i], end)
    return ranges


def _is_simple_block_map(data: Any) -> bool:
    if not isinstance(data, CommentedMap) or data.fa.flow_style():
        return False
    return all(data.lc.key(k)[1] == 0 for k in data)


def edit_front_matter_text(text: str, edit: FrontMatterEdit, *, path: Path | None = None) -> str:
    """``text`` (a whole plan file) with ``edit`` applied to its front matter.

    A file without front matter gets one. Raises :class:`SecplanError` naming the file when the
    front matter is not a YAML mapping.
    """
    if text.startswith("\ufeff"):
        # A byte-order mark stays in front; the front matter starts right after it.
        return "\ufeff" + edit_front_matter_text(text[1:], edit, path=path)
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    split = _split(text)
    if split is None:
        block = CommentedMap()
        for key, value in edit.set.items():
            block[key] = value
        for key, entries in edit.append.items():
            if entries:
                block[key] = list(entries)
        dumped = _dump(block, 2) if block else ""
        return "---" + newline + dumped.replace("\n", newline) + "---" + newline + text

    yaml_text = split.yaml.replace("\r\n", "\n")
    try:
        data = _yaml(2).load(yaml_text) if yaml_text.strip() else CommentedMap()
    except YAMLError as exc:
        raise SecplanError(
            f"front matter is not valid YAML: {exc}".splitlines()[0], path=path, line=1
        ) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise SecplanError("front matter is not a mapping of keys to values", path=path, line=1)
    seq_indent = _seq_indent_style(yaml_text)

    if not _is_simple_block_map(data):
        # Unusual layouts (a flow mapping, indented keys): let ruamel rewrite the whole block.
        for key, value in edit.set.items():
            data[key] = value
        for key, entries in edit.append.items():
            if entries:
                current = data.get(key)
                data[key] = [*(current if isinstance(current, list) else []), *entries]
        new_yaml = _dump(data, seq_indent)
        return split.head + new_yaml.replace("\n", newline) + split.tail

    lines = yaml_text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    ranges = _block_ranges(data, lines)
    replace: dict[str, str] = {}  # key -> new text of its block
    insert_after: dict[str, str] = {}  # key -> text added after its block
    added: list[str] = []  # blocks of keys that did not exist

    for key, value in edit.set.items():
        if key in data:
            if _plain(data[key]) == _plain(value):
                continue
            replace[key] = _dump({key: value}, seq_indent)
        else:
            added.append(_dump({key: value}, seq_indent))
    for key, entries in edit.append.items():
        if not entries:
            continue
        current = data.get(key)
        if isinstance(current, CommentedSeq) and current and not current.fa.flow_style():
            first, end = ranges[key]
            existing_text = "".join(lines[first:end])
            m = _SEQ_ITEM_RE.search(existing_text)
            indent = len(m.group(1)) if m else seq_indent
            dumped = _dump(list(entries), 0)
            insert_after[key] = "".join(
                " " * indent + line if line.strip() else line
                for line in dumped.splitlines(keepends=True)
            )
        elif key in data:
            existing = list(current) if isinstance(current, list) else []
            replace[key] = _dump({key: [*existing, *entries]}, seq_indent)
        else:
            added.append(_dump({key: list(entries)}, seq_indent))

    out: list[str] = []
    by_start = {start: (key, end) for key, (start, end) in ranges.items()}
    i = 0
    while i < len(lines):
        if i in by_start:
            key, end = by_start[i]
            out.append(replace.get(key, "".join(lines[i:end])))
            out.append(insert_after.get(key, ""))
            i = end
            continue
        out.append(lines[i])
        i += 1
    out.extend(added)
    new_yaml = "".join(out)
    if newline != "\n":
        new_yaml = new_yaml.replace("\r\n", "\n").replace("\n", newline)
    elif "\r\n" in split.yaml:
        new_yaml = new_yaml.replace("\r\n", "\n").replace("\n", "\r\n")
    return split.head + new_yaml + split.tail


def read_front_matter(text: str) -> dict[str, Any]:
    """The front matter of ``text`` as plain data (empty when there is none or it is invalid)."""
    split = _split(text)
    if split is None or not split.yaml.strip():
        return {}
    try:
        data = YAML(typ="safe").load(split.yaml)
    except YAMLError:
        return {}
    return data if isinstance(data, dict) else {}
