"""Issue state beside each work item in the rendered plan text.

The rendered HTML is cached per plan content and knows nothing of the tracker, so the page adds
each item's issue ref and state per request. Task-list entries and the parser's items are paired
in document order, and only when the entry's text starts with the item's title: an entry that is
not an item (or a renderer that changed) gets no badge rather than a wrong one.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable
from typing import Any

from markupsafe import escape

# A task-list entry as the sanitised renderer writes it (loose lists put it inside a <p>).
_TASK = re.compile(r'<li>\s*(?:<p>\s*)?<input disabled="disabled" type="checkbox"[^>]*>')
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
#: How far ahead a task entry may look for its item (entries that are not items in between).
_LOOKAHEAD = 3
#: Characters of the title compared (long titles may be cut or reformatted further on).
_PREFIX = 40


def _norm(text: str) -> str:
    return _SPACE.sub(" ", htmllib.unescape(_TAG.sub("", text))).strip().lower()


def annotate_items(html: str, items: Iterable[dict[str, Any]]) -> str:
    """``html`` with a ref + state badge after the checkbox of every item that has an issue.

    ``items`` are the plan view's item dicts (``title``, ``line``, ``generated``, ``ref``,
    ``state``); generated items (requirement issues) have no entry in the text.
    """
    pending = sorted((i for i in items if not i.get("generated")), key=lambda i: i["line"])
    if not any(i.get("ref") for i in pending):
        return html
    out: list[str] = []
    last = 0
    for match in _TASK.finditer(html):
        text = _norm(html[match.end() : match.end() + 400])
        for k, item in enumerate(pending[:_LOOKAHEAD]):
            title = _norm(item["title"])[:_PREFIX]
            if title and text.startswith(title):
                del pending[: k + 1]
                if item.get("ref"):
                    out.append(html[last : match.end()])
                    out.append(_badge(item))
                    last = match.end()
                break
    out.append(html[last:])
    return "".join(out)


def _badge(item: dict[str, Any]) -> str:
    ref = f'<code class="ref">{escape(item["ref"])}</code>'
    state = item.get("state")
    if state:  # a ref the tracker does not know gets no state rather than a guessed one
        ref = f'<span class="state state-{escape(state)}">{escape(state)}</span> {ref}'
    return f' <span class="item-issue">{ref}</span> '
