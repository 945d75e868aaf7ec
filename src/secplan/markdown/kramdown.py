"""The kramdown syntax Middleman/Jekyll handbooks use, so it never leaks into titles or text.

- Inline attribute lists (IAL): ``{: #id .class key="value"}``, ``{:.no_toc}``, ``{:toc}``.
- Manual anchors: ``[](){: name="x"}`` and HTML ``<a name="x"></a>`` / ``<a id="x"></a>``.
- Extensions such as ``{::nomarkdown}`` ... ``{:/}`` and ``{::comment}`` ... ``{:/comment}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: A whole IAL or extension tag, e.g. ``{: #id}``, ``{:.no_toc}``, ``{:toc}``, ``{::comment}``.
IAL = re.compile(r"\{:[^{}\n]*\}")
_IAL_ONLY = re.compile(r"^\s*(?:\{:[^{}\n]*\}\s*)+$")
_TRAILING_IAL = re.compile(r"\s*(?:\{:[^{}\n]*\}\s*)+$")
_ATTR = re.compile(r"""([#.])([\w\-:]+)|([\w\-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_HTML_ANCHOR = re.compile(
    r"""<a\s[^>]*?\b(?:name|id)\s*=\s*(?:"([^"]+)"|'([^']+)'|([^\s"'>]+))""", re.IGNORECASE
)
# Blanks and tabs only before the tag: ``\s*`` would run over every following blank line from
# each line start (quadratic on a run of blank lines).
_EXTENSION_START = re.compile(r"^[ \t]*\{::(nomarkdown|comment|options)\b[^}\n]*\}", re.MULTILINE)
_EXTENSION_CLOSE = {
    name: re.compile(r"\{:/(?:" + name + r")?\}") for name in ("nomarkdown", "comment")
}


@dataclass
class Attributes:
    """What an IAL says: an id, classes, key/value attributes, or a TOC marker."""

    id: str | None = None
    classes: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    toc: bool = False


def is_ial_only(text: str) -> bool:
    """True when ``text`` holds nothing but IALs (a block IAL line such as ``{: #id}``)."""
    return bool(_IAL_ONLY.match(text))


def strip_ials(text: str) -> str:
    """``text`` with every IAL removed (kramdown markers must not leak into titles)."""
    return IAL.sub("", text).strip() if "{:" in text else text


def strip_trailing_ial(text: str) -> str:
    """``text`` without IALs at its end."""
    return _TRAILING_IAL.sub("", text) if "{:" in text else text


def parse_ial(text: str) -> Attributes:
    """Read every IAL in ``text`` (``{: #id .cls name="x"}``, ``{:.no_toc}``, ``{:toc}``)."""
    result = Attributes()
    for match in IAL.finditer(text):
        body = match.group(0)[2:-1].strip()
        if body == "toc":
            result.toc = True
            continue
        if body.startswith(":") or body.startswith("/"):
            continue  # an extension tag such as {::comment} or {:/}
        for attr in _ATTR.finditer(body):
            sigil, name, key = attr.group(1), attr.group(2), attr.group(3)
            if sigil == "#":
                result.id = name
            elif sigil == ".":
                result.classes.append(name)
            elif key:
                value = next((g for g in attr.groups()[3:] if g is not None), "")
                result.attrs[key] = value
    return result


def heading_attrs(attrs: tuple[tuple[str, str | None], ...]) -> Attributes:
    """Kramdown IALs pyromark saw as heading attributes (``## T {:.no_toc}`` → ``:.no_toc``)."""
    result = Attributes()
    for key, value in attrs:
        name = key.lstrip(":")
        if name.startswith("."):
            result.classes.append(name[1:])
        elif name.startswith("#"):
            result.id = name[1:]
        elif name == "toc":
            result.toc = True
        elif name:
            result.attrs[name] = value or ""
    return result


def manual_anchor(text_after_link: str) -> str | None:
    """The anchor of ``[](){: name="x"}`` given the text right after the empty link."""
    match = re.match(r"\s*(\{:[^{}\n]*\})", text_after_link)
    if not match:
        return None
    attrs = parse_ial(match.group(1))
    return attrs.attrs.get("name") or attrs.id


def html_anchors(html: str) -> list[tuple[str, int]]:
    """``(anchor, offset in html)`` for every ``<a name=...>`` / ``<a id=...>``."""
    if "<a" not in html and "<A" not in html:
        return []
    return [
        (next(g for g in m.groups() if g is not None), m.start())
        for m in _HTML_ANCHOR.finditer(html)
    ]


def extension_blocks(text: str) -> list[tuple[int, int]]:
    """Character spans of ``{::nomarkdown}``/``{::comment}`` blocks up to their ``{:/...}``.

    Their content is not Markdown (raw HTML, comments), so it holds no items or markers. A tag
    inside a block is part of that block; an unclosed block runs to the end of the text (and
    the search stops there, so many unclosed tags cost one pass, not one pass each).
    """
    if "{::" not in text:
        return []
    spans: list[tuple[int, int]] = []
    at = 0
    while (match := _EXTENSION_START.search(text, at)) is not None:
        name = match.group(1)
        at = match.end()
        if name == "options":
            continue
        end = _EXTENSION_CLOSE[name].search(text, match.end())
        spans.append((match.start(), end.end() if end else len(text)))
        if end is None:
            break
        at = end.end()
    return spans
