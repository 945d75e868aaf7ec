"""The plan page's additions to the rendered plan text: work items as items, review places.

The rendered HTML is cached per plan content and knows nothing of the tracker, so the page
rebuilds each work item's entry per render: a checkbox that follows the item's issue (closed ->
checked; the Markdown tick when there is no issue), the title, token chips (milestone, labels,
assignees), the issue ref as a link with its state, the description and the acceptance
criteria. Task-list entries and the parser's items are paired in document order, and only when
the entry's text starts with the item's title: an entry that is not an item (or a renderer that
changed) is left as written rather than given the wrong item.

:func:`split_sections` cuts the text at its headings so the page can put each section's review
threads right below the section, and puts a count badge on headings with open threads.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import escape

# A task-list entry as the sanitised renderer writes it (loose lists put it inside a <p>).
_TASK = re.compile(r'<li>\s*(?:<p>\s*)?<input disabled="disabled" type="checkbox"[^>]*>')
_LI = re.compile(r"<(/?)li\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r'<h([1-6]) id="([^"]*)"[^>]*>.*?</h\1>', re.DOTALL)
_ACCEPTANCE_LINE = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\[[ xX]\]\s*)?(?:\*\*|__)?(?:acceptance(?: criteria)?|done when)",
    re.IGNORECASE,
)
#: How far ahead a task entry may look for its item (entries that are not items in between).
_LOOKAHEAD = 3
#: Characters of the title compared (long titles may be cut or reformatted further on).
_PREFIX = 40

#: ref -> the address of the issue's page, or None where there is none (the static site).
RefHref = Callable[[str], str | None]


def _norm(text: str) -> str:
    return _SPACE.sub(" ", htmllib.unescape(_TAG.sub("", text))).strip().lower()


def _entry_end(html: str, start: int) -> int:
    """Index just after the ``</li>`` closing the entry opened at ``start``."""
    depth = 0
    for tag in _LI.finditer(html, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(html)


def description_without_acceptance(description: str) -> str:
    """The item's description up to its acceptance criteria (which are shown on their own)."""
    kept: list[str] = []
    for line in description.splitlines():
        if _ACCEPTANCE_LINE.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def render_items(html: str, items: Iterable[dict[str, Any]], ref_href: RefHref) -> str:
    """``html`` with every task-list entry that is a work item rendered as an item.

    ``items`` are the plan view's item dicts (``title``, ``line``, ``generated``, ``ref``,
    ``state``, ``done``, ``milestone``, ``labels``, ``assignees``, ``description``,
    ``acceptance``); generated items (requirement issues) have no entry in the text.
    """
    pending = sorted((i for i in items if not i.get("generated")), key=lambda i: i["line"])
    out: list[str] = []
    last = 0
    for match in _TASK.finditer(html):
        if match.start() < last:
            continue  # inside an entry already replaced
        text = _norm(html[match.end() : match.end() + 400])
        for k, item in enumerate(pending[:_LOOKAHEAD]):
            title = _norm(item["title"])[:_PREFIX]
            if title and text.startswith(title):
                del pending[: k + 1]
                end = _entry_end(html, match.start())
                out.append(html[last : match.start()])
                out.append(item_html(item, ref_href))
                last = end
                break
    out.append(html[last:])
    return "".join(out)


def item_html(item: dict[str, Any], ref_href: RefHref) -> str:
    """One work item's entry: checkbox, title, chips, issue, description, acceptance."""
    state = item.get("state")
    checked = state == "closed" if state else bool(item.get("done"))
    done_word = "done" if checked else "not done"
    parts = [
        f'<li class="work-item" id="item-{escape(item["id"])}" data-item="{escape(item["id"])}">',
        '<div class="item-head">',
        f'<input disabled="disabled" type="checkbox"{" checked" if checked else ""}'
        f' aria-label="{done_word}">',
        f' <strong class="item-title">{escape(item["title"])}</strong>',
    ]
    if item.get("ref"):
        parts.append(" " + _issue_badge(item, ref_href))
    parts.append("</div>")
    chips = _chips(item)
    if chips:
        parts.append(f'<p class="chips">{chips}</p>')
    from secplan.markdown.render import render_fragment  # plan pages only: not at start

    description = description_without_acceptance(item.get("description") or "")
    if description:
        parts.append(f'<div class="item-description">{render_fragment(description)}</div>')
    acceptance = item.get("acceptance") or []
    if acceptance:
        rows = "".join(f"<li>{render_fragment(a, inline=True)}</li>" for a in acceptance)
        parts.append(
            f'<div class="item-acceptance"><p class="acceptance-head">Acceptance</p>'
            f"<ul>{rows}</ul></div>"
        )
    parts.append("</li>")
    return "".join(parts)


def _chips(item: dict[str, Any]) -> str:
    chips = []
    if item.get("spike"):
        chips.append('<span class="chip chip-spike">spike</span>')
    if item.get("milestone"):
        milestone = escape(item["milestone"])
        chips.append(f'<span class="chip chip-milestone" title="milestone">%{milestone}</span>')
    for label in item.get("labels") or []:
        chips.append(f'<span class="chip chip-label" title="label">~{escape(label)}</span>')
    for person in item.get("assignees") or []:
        name = str(person).lstrip("@")
        chips.append(f'<span class="chip chip-assignee" title="assignee">@{escape(name)}</span>')
    return " ".join(chips)


def _issue_badge(item: dict[str, Any], ref_href: RefHref) -> str:
    ref = str(item["ref"])
    href = ref_href(ref)
    shown = (
        f'<a class="ref" href="{escape(href)}">{escape(ref)}</a>'
        if href
        else f'<code class="ref">{escape(ref)}</code>'
    )
    state = item.get("state")
    if state:  # a ref the tracker does not know gets no state rather than a guessed one
        shown = f'<span class="state state-{escape(state)}">{escape(state)}</span> {shown}'
    return f'<span class="item-issue">{shown}</span>'


def split_sections(html: str, open_threads: Mapping[str, int]) -> list[tuple[str, str | None]]:
    """The text cut before each heading: ``(chunk, anchor of the section the chunk ends)``.

    The page puts a section's review threads after its chunk (its own text, before the next
    heading). Headings whose section has open threads get a badge linking to them.
    """
    parts: list[tuple[str, str | None]] = []
    last = 0
    current: str | None = None
    for match in _HEADING.finditer(html):
        parts.append((html[last : match.start()], current))
        current = htmllib.unescape(match.group(2))
        heading = match.group(0)
        count = open_threads.get(current, 0)
        if count:
            close = f"</h{match.group(1)}>"
            badge = (
                f' <a class="badge open-threads" href="#review-{escape(current)}">'
                f"{count} open thread{'s' if count != 1 else ''}</a>"
            )
            heading = heading[: -len(close)] + badge + close
        parts.append((heading, None))
        last = match.end()
    parts.append((html[last:], current))
    return [(chunk, anchor) for chunk, anchor in parts if chunk or anchor]
