"""GitLab's inline diff markers, ``{+ added +}`` and ``{- removed -}``, in headings.

GitLab renders the words between the markers (as an insertion or a deletion) and derives the
heading's anchor from them: ``# {+ Title of Blueprint +}`` is ``title-of-blueprint``. Without
this, the heading-attribute extension reads the braces as an attribute block and the heading
loses its text.
"""

from __future__ import annotations

import re

_DIFF = re.compile(r"\{([+-])(.+?)\1\}")
_ATX = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)")
_ATX_CLOSE = re.compile(r"(?:^|\s+)#+\s*$")


def has_inline_diff(text: str) -> bool:
    """Whether ``text`` holds a ``{+ +}`` or ``{- -}`` span."""
    return ("{+" in text or "{-" in text) and _DIFF.search(text) is not None


def strip_inline_diff(text: str) -> str:
    """``text`` with each diff span replaced by the words inside it, as GitLab shows them."""
    return _DIFF.sub(lambda m: m.group(2).strip(), text)


def atx_heading_text(line: str) -> str:
    """The text of an ATX heading line (``## x ##`` -> ``x``), diff spans unwrapped."""
    text = _ATX_CLOSE.sub("", _ATX.sub("", line.rstrip("\r\n"), count=1))
    return " ".join(strip_inline_diff(text).split())
