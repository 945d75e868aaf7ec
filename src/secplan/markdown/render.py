"""Plan Markdown → safe HTML for the web UI.

The pipeline is: neutralise kramdown markers in the source (keeping the line count, so heading
lines still match the parser's), render with pyromark, sanitise with nh3, and only then add the
structure we generate ourselves (heading ids from the parser's anchors, permalinks, the TOC).
Doing our own additions after sanitising means nh3 never has to allow anything a plan author
could abuse; the only author-controlled values we insert are escaped attribute values.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
import pyromark

from secplan.markdown.frontmatter import split_front_matter as _split_yaml

# The item-id pattern is private to the parser; importing it keeps one definition of what a
# work item's `{#id}` is, so the page hides exactly what the parser reads as an id.
from secplan.markdown.items import _EXPLICIT_ID as _ITEM_ID
from secplan.markdown.kramdown import IAL, is_ial_only, manual_anchor, parse_ial
from secplan.markdown.lines import LineTable
from secplan.markdown.parser import OPTIONS, normalise_newlines
from secplan.markdown.slugs import SlugRegistry, slugify
from secplan.model import Section

# Rendered with the parser's options, so the HTML has the headings and items the parser saw.
_MD = pyromark.Markdown(options=OPTIONS)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# The empty link of kramdown's manual anchor idiom `[](){: name="x"}` / `[](#){: name="x"}`.
_EMPTY_LINK = re.compile(r"\[\]\([^)\s]*\)")
_TASK_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s")
_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
#: Deepest blockquote/list nesting one line may open; deeper markers are dropped before
#: rendering (the sanitiser's work grows with the square of the nesting depth).
MAX_NESTING = 32
_CONTAINER_STARTS = frozenset(">-*+0123456789")
_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))")
_HEADING_HTML = re.compile(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"input", "section", "sup", "tfoot"}
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    # ids make anchors work; nh3 still drops every event handler and style attribute.
    "*": {"id", "title", "lang"},
    "a": {"href", "hreflang", "name"},
    "input": {"checked", "disabled"},
    "ol": {"start"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class TocEntry:
    """One heading in the table of contents."""

    title: str
    level: int
    anchor: str


@dataclass
class RenderedPlan:
    """Sanitised HTML of a plan body, and the headings found in it."""

    html: str
    toc: list[TocEntry] = field(default_factory=list)


def _manual_anchors(line: str) -> str:
    """``[](){: name="x"}`` → ``<a id="x"></a>{: name="x"}`` (the IAL is stripped afterwards)."""

    def one(link: re.Match[str]) -> str:
        anchor = manual_anchor(line[link.end() :])
        if anchor is None:
            return link.group(0)
        return f'<a id="{html.escape(anchor, quote=True)}"></a>'

    return _EMPTY_LINK.sub(one, line)


def cap_nesting(line: str) -> str:
    """``line`` with at most :data:`MAX_NESTING` leading ``>`` and list markers; the markers
    beyond are dropped and the text after them kept (one pass over the markers)."""
    at = count = keep = 0
    while (m := _CONTAINER.match(line, at)) is not None:
        at = m.end()
        count += 1
        if count == MAX_NESTING:
            keep = at
    if count <= MAX_NESTING:
        return line
    return line[:keep] + " " + line[at:].lstrip(" \t")


def neutralise_kramdown(text: str, toc_token: str) -> tuple[str, dict[int, str]]:
    """Replace kramdown markers outside code so they never leak into the output as text.

    The number of lines never changes: heading line numbers must still match the parser's.
    A list followed by ``{:toc}`` becomes ``toc_token``, a paragraph later swapped for the TOC.
    Also returns the block IALs it removed, by 1-based line, so headings can use them.
    """
    lines = text.split("\n")
    ials: dict[int, str] = {}
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if len(line) > MAX_NESTING and line.lstrip(" \t")[:1] in _CONTAINER_STARTS:
            line = lines[i] = cap_nesting(line)
        if "{:" not in line:
            if _TASK_LINE.match(line):
                # A trailing `{#item-id}` names the work item; it is not text to show.
                lines[i] = _ITEM_ID.sub("", line)
            continue
        if is_ial_only(line):
            if parse_ial(line).toc:
                # The TOC list is the run of list lines right above the marker.
                j = i - 1
                while j >= 0 and lines[j].strip() and _LIST_LINE.match(lines[j]):
                    lines[j] = ""
                    j -= 1
                # The blanked list lines keep the token a paragraph of its own; a heading ends
                # at its line. Right under a paragraph there is no list, so no TOC (kramdown
                # makes none either). Never a line more: heading lines must match the parser's.
                above = lines[j] if j >= 0 else ""
                bare = j == i - 1 and above.strip() and not above.lstrip().startswith("#")
                lines[i] = "" if bare else toc_token
            else:
                ials[i + 1] = line.strip()
                lines[i] = ""
            continue
        if _TASK_LINE.match(line):
            line = _ITEM_ID.sub("", line)
        lines[i] = IAL.sub("", _manual_anchors(line))
    return "\n".join(lines), ials


def _heading_lines(source: str) -> list[tuple[int, int, str, str | None]]:
    """(first line, last line, text, explicit id) of every Markdown heading, in document order."""
    lines = LineTable(source)  # a bisect per heading, not a count from the start of the text
    out: list[tuple[int, int, str, str | None]] = []
    end_line = 0
    text: list[str] | None = None
    line = 0
    hid: str | None = None
    for typed_event, rng in _MD.events_with_range(source):
        event: Any = typed_event  # a union of TypedDicts; we probe keys dynamically
        if isinstance(event, dict):
            start = event.get("Start")
            if isinstance(start, dict) and "Heading" in start:
                line = lines.line(rng["start"])
                hid = start["Heading"].get("id")
                end_line = lines.line(max(rng["start"], rng["end"] - 1))
                text = []
                continue
            if "End" in event and isinstance(event["End"], dict) and "Heading" in event["End"]:
                out.append((line, end_line, "".join(text or []), hid))
                text = None
                continue
            if text is not None:
                for key in ("Text", "Code"):
                    if key in event:
                        text.append(str(event[key]))
    return out


def _sanitise(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        tag_attribute_values={"input": {"type": {"checkbox"}}},
        set_tag_attribute_values={"input": {"disabled": "disabled"}},
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def toc_html(toc: Sequence[TocEntry]) -> str:
    """A nested list of links for the table of contents (level jumps clamp to one step)."""
    if not toc:
        return ""
    base = min(e.level for e in toc)
    parts = ['<nav class="toc" aria-label="Table of contents">']
    depth = -1
    for entry in toc:
        d = max(0, min(entry.level - base, depth + 1))
        if d > depth:
            parts.append("<ul>")
        else:
            parts.append("</li>" + "</ul></li>" * (depth - d))
        a = html.escape(entry.anchor, quote=True)
        parts.append(f'<li><a href="#{a}">{html.escape(entry.title)}</a>')
        depth = d
    parts.append("</li>" + "</ul></li>" * depth + "</ul></nav>")
    return "".join(parts)


_HREF = re.compile(r'href="([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def rewrite_links(fragment: str, resolve: Callable[[str], str | None]) -> str:
    """Pass every relative ``href`` (not ``#x``, not ``/x``, no scheme) through ``resolve``."""

    def one(m: re.Match[str]) -> str:
        url = html.unescape(m.group(1))
        if not url or url.startswith(("#", "/")) or _SCHEME.match(url):
            return m.group(0)
        new = resolve(url)
        return m.group(0) if new is None else f'href="{html.escape(new, quote=True)}"'

    return _HREF.sub(one, fragment)


def render_markdown(
    body: str,
    sections: Sequence[Section] = (),
    line_offset: int = 0,
    resolve_link: Callable[[str], str | None] | None = None,
    flavour: str = "gitlab",
) -> RenderedPlan:
    """Render a plan body (front matter already removed) to sanitised HTML.

    ``sections`` are the parser's sections (``Plan.sections``); ``line_offset`` is the number of
    file lines before ``body`` (``Plan.body_line - 1``), so a heading on body line n matches the
    section on file line n + offset. Every heading gets its section's anchor as ``id`` and a
    permalink; a kramdown ``{:toc}`` list is replaced by a real table of contents.
    ``resolve_link`` may rewrite relative links (e.g. ``other.md#x`` to the other plan's page).
    ``flavour`` (the handbook's ``anchor_flavour``) names headings the parser did not report.
    """
    toc_token = "secplantoc" + secrets.token_hex(8)
    source, ials = neutralise_kramdown(body, toc_token)
    headings = _heading_lines(source)
    by_line = {s.line: s for s in sections}
    registry = SlugRegistry(faithful=True)
    plan: list[tuple[str, str, bool]] = []  # (anchor, text, no_toc) per Markdown heading
    for i, (line, end_line, text, hid) in enumerate(headings):
        section = by_line.get(line + line_offset)
        if section is None and len(sections) == len(headings):
            section = sections[i]
        if section is not None:
            plan.append((section.anchor, section.title or text, section.no_toc))
            continue
        # No parser result for this heading: read the IAL on the line after it ourselves.
        ial = parse_ial(ials.get(end_line + 1, ""))
        anchor = ial.id or hid or registry.unique(slugify(text, flavour) or "section")
        plan.append((anchor, text, "no_toc" in ial.classes))

    clean = _sanitise(_MD.html(source))
    if resolve_link is not None:
        clean = rewrite_links(clean, resolve_link)
    # Raw-HTML headings in the plan are not Markdown headings; when counts differ, match by text.
    in_order = len(_HEADING_HTML.findall(clean)) == len(plan)
    toc: list[TocEntry] = []
    cursor = 0

    def fix_heading(m: re.Match[str]) -> str:
        nonlocal cursor
        level, inner = int(m.group(1)), m.group(3)
        plain = html.unescape(_TAG.sub("", inner)).strip()
        if cursor >= len(plan) or not (in_order or plain == plan[cursor][1].strip()):
            return m.group(0)
        anchor, title, no_toc = plan[cursor]
        cursor += 1
        if not no_toc:
            toc.append(TocEntry(title=plain or title, level=level, anchor=anchor))
        a = html.escape(anchor, quote=True)
        return (
            f'<h{level} id="{a}">{inner}'
            f' <a class="permalink" href="#{a}" title="Permalink to this section"'
            f' aria-label="Permalink">¶</a></h{level}>'
        )

    clean = _HEADING_HTML.sub(fix_heading, clean)
    clean = clean.replace(f"<p>{toc_token}</p>", toc_html(toc))
    return RenderedPlan(html=clean, toc=toc)


def split_front_matter(text: str) -> tuple[str, int]:
    """The body after the front matter, and the number of file lines before it.

    The parser's own split, so the page starts where the parser's line numbers do.
    """
    _, body, body_line, _ = _split_yaml(normalise_newlines(text.removeprefix("\ufeff")))
    return body, body_line - 1


def render_fragment(markdown: str, inline: bool = False) -> str:
    """A short Markdown text (an item's description, a diagnostic) as sanitised HTML.

    ``inline`` drops the paragraph around a one-paragraph text, for use inside a line.
    """
    html = _sanitise(_MD.html(markdown)).strip()
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
