"""Template text left unedited: sentences of the plan template ``secplan new`` writes.

A plan made with ``secplan new`` starts as placeholders: ``TODO:`` paragraphs and example work
items ("Replace this example with the first piece of work"). Removing the ``TODO:`` words is
not writing the plan, so the body is compared with the template sentence by sentence; a
sentence of five words or more that is still the template's own is reported (SP309).

Only the template's placeholders count (paragraphs holding ``TODO``, list items, table rows);
its explanations of the format (how items are written, what ``ssot`` is for) may stay.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from secplan.markdown.frontmatter import split_front_matter
from secplan.model import Diagnostic

#: The template ``secplan new`` fills in (package data of secplan.handbook).
TEMPLATE = Path(__file__).resolve().parent.parent / "handbook" / "templates" / "plan.md"
MIN_WORDS = 5

_LIST_OR_ROW = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?|^\s*\|")
_ITEM_TOKENS = re.compile(r'%"[^"]*"|%[^\s"]+|\{[#:][^}]*\}|~"[^"]*"|~\S+')
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\|\s*")
_TODO = re.compile(r"\b(?:todo|tbd|fixme|xxx)\b:?")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def normalise(sentence: str) -> str:
    """Lower case, marker words and punctuation gone, single spaces."""
    text = _TODO.sub(" ", sentence.lower())
    return " ".join(_NON_WORD.sub(" ", text).split())


def _blocks(lines: list[str], first_line: int) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines outside fenced code and HTML comments, with their file lines."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    fence = ""
    in_comment = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append((first_line + index, line))
    if current:
        blocks.append(current)
    return blocks


def _sentences(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(line, normalised sentence) pairs; a list item's or table row's first line is one."""
    found: list[tuple[int, str]] = []
    pending: list[str] = []
    pending_line = 0

    def flush() -> None:
        text = " ".join(pending)
        for part in _SENTENCE_END.split(text):
            words = normalise(part)
            if words.count(" ") + 1 >= MIN_WORDS:
                found.append((pending_line, words))
        pending.clear()

    for line_no, line in block:
        marker = _LIST_OR_ROW.match(line)
        if marker and pending:
            flush()
        if not pending:
            pending_line = line_no
        text = line[marker.end() :] if marker else line
        pending.append(_ITEM_TOKENS.sub(" ", text.lstrip("> ")))
        if marker:
            flush()  # an item's first line is its title: a sentence of its own
    if pending:
        flush()
    return found


@lru_cache(maxsize=1)
def template_sentences() -> frozenset[str]:
    """The template's placeholder sentences, normalised ($-placeholders dropped)."""
    try:
        text = TEMPLATE.read_text(encoding="utf-8")
    except OSError:  # pragma: no cover - a broken installation: nothing to compare with
        return frozenset()
    _, body, body_line, _ = split_front_matter(text)
    sentences: set[str] = set()
    for block in _blocks(body.split("\n"), body_line):
        placeholder = any("TODO" in line or _LIST_OR_ROW.match(line) for _, line in block)
        if not placeholder:
            continue
        for _, sentence in _sentences([(n, line.replace("$", " ")) for n, line in block]):
            sentences.add(sentence)
    return frozenset(sentences)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """Per template sentence: its longest word, and its words in order with anything between."""
    patterns = []
    for sentence in sorted(template_sentences()):
        words = sentence.split()
        joined = r"[^a-z0-9]+".join(map(re.escape, words))
        patterns.append((sentence, max(words, key=len), re.compile(rf"\b{joined}\b")))
    return tuple(patterns)


def template_diagnostics(
    body: str, first_line: int, marker_lines: set[int] | None = None
) -> list[Diagnostic]:
    """One SP309 per template sentence still in the body, at its first line.

    Lines in ``marker_lines`` (a ``TODO`` still there: SP306 reports it) are left out.

    The sentence's longest word is looked for first (a plain substring search), and the
    sentence only around each hit: splitting every plan into sentences, or searching for
    each sentence everywhere, would double the parse time.
    """
    lowered = body.lower()
    same_length = len(lowered) == len(body)
    found: list[tuple[int, str]] = []
    for sentence, key, pattern in _patterns():
        reach = len(sentence) * 2
        pos = lowered.find(key)
        while pos != -1:
            start = max(0, pos - reach)
            match = pattern.search(lowered, start, pos + reach)
            if match is not None:
                line = first_line + lowered.count("\n", 0, match.start())
                if line not in (marker_lines or ()):
                    # The words as written, where lower-casing kept the offsets.
                    raw = body[match.start() : match.end()] if same_length else sentence
                    found.append((line, " ".join(raw.split())))
                break
            pos = lowered.find(key, pos + len(key))
    problems = []
    for line, sentence in sorted(found):
        shown = sentence if len(sentence) <= 60 else sentence[:57] + "..."
        problems.append(Diagnostic("SP309", f'template text left unedited: "{shown}"', line))
    return problems
