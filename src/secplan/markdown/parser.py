"""Parse one plan file into a :class:`~secplan.model.Plan` in a single pass over pyromark events.

The front matter is split off first (so the Markdown parser never sees it) and the body is
parsed once with ``pyromark.events_with_range``; byte ranges become file lines through a
precomputed :class:`~secplan.markdown.lines.LineTable`. Headings, task items, requirements,
markers, links, anchors and suppressions are all collected during that one walk; anchors are
assigned afterwards because a kramdown IAL on the line after a heading may still set its id.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyromark

from secplan.markdown import items as item_syntax
from secplan.markdown.assemble import (
    Heading,
    assign_item_ids,
    build_sections,
    duplicate_anchors,
    resolve_item_ref,
)
from secplan.markdown.frontmatter import apply_front_matter, read_front_matter, split_front_matter
from secplan.markdown.inline_diff import atx_heading_text, has_inline_diff
from secplan.markdown.kramdown import (
    Attributes,
    extension_blocks,
    heading_attrs,
    html_anchors,
    is_ial_only,
    manual_anchor,
    parse_ial,
    strip_ials,
)
from secplan.markdown.lines import LineTable
from secplan.markdown.requirements import generate_items, requirement_id, strongest_keyword
from secplan.markdown.template_text import template_diagnostics
from secplan.model import (
    Anchor,
    LinkUse,
    Marker,
    Plan,
    Requirement,
    WorkItem,
)

OPTIONS = (
    pyromark.Options.ENABLE_TASKLISTS
    | pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_HEADING_ATTRIBUTES
    | pyromark.Options.ENABLE_FOOTNOTES
)

_MARKER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b")
_SUPPRESS = re.compile(r"<!--\s*secplan\s*:\s*ignore\s+([A-Za-z0-9_,\s]+?)\s*-->", re.IGNORECASE)
_BLOCK_STARTS = frozenset({"List", "CodeBlock", "BlockQuote", "Table", "HtmlBlock", "Heading"})


@dataclass(slots=True)
class _ItemFrame:
    start: int
    end: int
    line: int
    column: int
    task: bool = False
    done: bool = False
    marker_end: int = -1
    in_task: bool = False  # nested under a task item: part of its description
    first_done: bool = False  # the item's own first paragraph is complete
    text: list[str] = field(default_factory=list)  # first paragraph, inline code included
    prose: list[str] = field(default_factory=list)  # first paragraph without inline code
    section: int = -1


@dataclass
class _PendingItem:
    item: WorkItem
    section: int
    refs: list[str]


@dataclass
class _PendingRequirement:
    level: Any
    keyword: str
    text: str
    line: int
    section: int


@dataclass
class _PendingAnchor:
    id: str
    line: int
    column: int
    section: int


_ATX_OPEN = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)")
_ATX_CLOSE = re.compile(r"(?:^|\s+)#+\s*$")
_ATTR_BLOCK = re.compile(r"\s*\{[^{}]*\}\s*$")


def _heading_source(raw: str) -> str:
    """A heading's text as written: no ``#`` marks, setext underline or attribute block."""
    lines = raw.rstrip("\n").split("\n")
    if _ATX_OPEN.match(lines[0]):
        text = _ATX_OPEN.sub("", lines[0])
        text = _ATTR_BLOCK.sub("", text)
        text = _ATX_CLOSE.sub("", text)
    else:  # setext: text lines, then the ===/--- underline
        text = " ".join(line.strip() for line in lines[:-1]) if len(lines) > 1 else lines[0]
        text = _ATTR_BLOCK.sub("", text)
    return strip_ials(text).strip()


_NO_ATTRS = Attributes()  # read only: a heading without attributes
_QUOTE_PREFIX = re.compile(r"^\s{0,3}>(?:\s?>)*")


def _strip_quote(line: str, depth: int) -> str:
    """``line`` without up to ``depth`` blockquote markers (and one space after each)."""
    for _ in range(depth):
        stripped = line.lstrip()
        if not stripped.startswith(">"):
            break
        line = stripped[1:]
        if line.startswith(" "):
            line = line[1:]
    return line


def _byte_offsets(text: str, positions: list[Any], base: int) -> list[int]:
    """Byte offsets (from ``base``) of character positions or matches, in one pass over ``text``.

    Encoding ``text[:i]`` for every match would be quadratic on a long line full of markers.
    """
    out: list[int] = []
    char = 0
    byte = base
    for item in positions:
        position = item if isinstance(item, int) else item.start()
        byte += len(text[char:position].encode("utf-8", "replace"))
        char = position
        out.append(byte)
    return out


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n`` (line counts stay those of the file)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_plan(
    text: str,
    *,
    plan_id: str = "",
    path: Path | None = None,
    rel_path: str = "",
    flavour: str = "gitlab",
    default_project: str | None = None,
    default_group: str | None = None,
    content_hash: str = "",
) -> Plan:
    """Parse a plan's text (front matter and body). Never raises on any text input."""
    text = normalise_newlines(text.removeprefix("\ufeff"))
    plan = Plan(id=plan_id, path=path or Path(rel_path), rel_path=rel_path)
    plan.content_hash = content_hash
    yaml_text, body, body_line, problem = split_front_matter(text)
    if problem:
        plan.diagnostics.append(problem)
    if yaml_text is not None:
        fm = read_front_matter(yaml_text, first_line=2)
        plan.diagnostics.extend(fm.diagnostics)
        apply_front_matter(plan, fm, default_group=default_group)
    plan.body_line = body_line
    project = plan.tracker or default_project
    _BodyWalker(plan, body, body_line, flavour, project).run()
    marker_lines = {m.line for m in plan.markers}
    plan.diagnostics.extend(template_diagnostics(body, body_line, marker_lines))
    return plan


class _BodyWalker:
    """One walk over the body's events, filling the plan."""

    def __init__(
        self, plan: Plan, body: str, first_line: int, flavour: str, project: str | None
    ) -> None:
        self.plan = plan
        self.body = body
        self.lines = LineTable(body, first_line)
        self._next_non_blank_of: dict[int, int | None] = {}
        self.flavour = flavour
        self.project = project
        self.headings: list[Heading] = []
        self.items: list[_PendingItem] = []
        self.requirements: list[_PendingRequirement] = []
        self.manual: list[_PendingAnchor] = []
        self.frames: list[_ItemFrame] = []
        self.excluded = self._excluded_lines()

    def _excluded_lines(self) -> list[tuple[int, int]]:
        # The spans come in order and never overlap: count the newlines once, left to right.
        out: list[tuple[int, int]] = []
        line, at = self.lines.first_line, 0
        for a, b in extension_blocks(self.body):
            line += self.body.count("\n", at, a)
            first = line
            line += self.body.count("\n", a, b)
            at = b
            out.append((first, line))
        self._excluded_starts = [a for a, _b in out]
        return out

    def _is_excluded(self, line: int) -> bool:
        if not self.excluded:
            return False
        i = bisect_right(self._excluded_starts, line) - 1
        return i >= 0 and line <= self.excluded[i][1]

    # -- the walk ---------------------------------------------------------------------------

    def run(self) -> None:
        heading: dict[str, Any] | None = None
        heading_text: list[str] = []
        heading_start = 0
        code_depth = 0
        para_text: list[str] = []
        para_start = -1
        last_block_heading = -1  # index of the heading that was the previous block
        empty_link: list[bool] = []
        after_empty_link = False
        frames = self.frames
        events: Any = pyromark.events_with_range(self.body, options=OPTIONS)
        # The hot loop: Text and breaks are most events, so they are handled inline.
        for event, rng in events:
            if type(event) is str:  # SoftBreak, HardBreak, Rule
                if event != "Rule":
                    if heading is not None:
                        heading_text.append(" ")
                    if frames and not frames[-1].first_done:
                        frames[-1].text.append(" ")
                        frames[-1].prose.append(" ")
                    if para_start >= 0:
                        para_text.append("\n")
                after_empty_link = False
                continue
            ((kind, value),) = event.items()
            start = rng["start"]
            if kind == "Text":
                if code_depth:
                    continue
                if after_empty_link:
                    anchor = manual_anchor(value)
                    if anchor:
                        line, column = self.lines.position(start)
                        self.manual.append(_PendingAnchor(anchor, line, column, self._section()))
                    after_empty_link = False
                if "TODO" in value or "TBD" in value or "FIXME" in value or "XXX" in value:
                    self._markers(start, rng["end"])
                if heading is not None:
                    heading_text.append(value)
                    continue
                if para_start >= 0:
                    para_text.append(value)
                if frames and not frames[-1].first_done:
                    frames[-1].text.append(value)
                    frames[-1].prose.append(value)
            elif kind == "Code":
                after_empty_link = False
                if heading is not None:
                    heading_text.append(value)
                else:
                    self._add_text(f"`{value}`", prose=False)
            elif kind == "Start":
                after_empty_link = False
                tag = value if isinstance(value, str) else next(iter(value))
                if tag == "Heading":
                    heading = value["Heading"]
                    heading_text = []
                    heading_start = start
                    self._block_started()
                elif tag == "CodeBlock":
                    code_depth += 1
                    self._block_started()
                elif tag == "Item":
                    self._start_item(start, rng["end"])
                elif tag == "Paragraph":
                    para_text = []
                    para_start = start
                    frame = self.frames[-1] if self.frames else None
                    if frame and frame.text:
                        frame.first_done = True
                elif tag == "Link":
                    link = value["Link"]
                    url = link["dest_url"]
                    empty_link.append(not url)
                    if url:
                        line, column = self.lines.position(start)
                        self.plan.links.append(LinkUse(url=url, line=line, column=column))
                elif tag in _BLOCK_STARTS:
                    self._block_started()
            elif kind == "End":
                tag = value if isinstance(value, str) else next(iter(value))
                if tag == "Heading" and heading is not None:
                    self._end_heading(heading, "".join(heading_text), heading_start, rng["end"])
                    heading = None
                    last_block_heading = len(self.headings) - 1
                    continue
                if tag == "Paragraph":
                    # kramdown reads an IAL line right below a heading as the heading's, even
                    # when the paragraph text continues on the next line.
                    text = "".join(para_text).split("\n", 1)[0]
                    if (
                        last_block_heading >= 0
                        and is_ial_only(text)
                        and self.lines.line(para_start)
                        == self.headings[last_block_heading].line + 1
                    ):
                        self._apply_heading_ial(self.headings[last_block_heading], text)
                    para_start = -1
                    frame = self.frames[-1] if self.frames else None
                    if frame and frame.text:
                        frame.first_done = True
                elif tag == "CodeBlock":
                    code_depth = max(0, code_depth - 1)
                elif tag == "Item":
                    self._end_item()
                elif tag == "Link":
                    after_empty_link = bool(empty_link.pop()) if empty_link else False
                    continue
                last_block_heading = -1
            elif kind == "TaskListMarker":
                if self.frames:
                    frame = self.frames[-1]
                    frame.task = True
                    frame.done = bool(value)
                    frame.marker_end = rng["end"]
            elif kind in ("Html", "InlineHtml"):
                after_empty_link = False
                self._html(value, start)
        self._finish()

    # -- pieces of the walk -----------------------------------------------------------------

    def _section(self) -> int:
        return len(self.headings) - 1

    def _block_started(self) -> None:
        if self.frames and self.frames[-1].text:
            self.frames[-1].first_done = True

    def _add_text(self, text: str, *, prose: bool) -> None:
        if not self.frames:
            return
        frame = self.frames[-1]
        if frame.first_done:
            return
        frame.text.append(text)
        if prose:
            frame.prose.append(text)

    def _markers(self, start: int, end: int) -> None:
        # Search the source, not the event text, so columns are those of the file.
        source = self.lines.data[start:end].decode("utf-8", "replace")
        matches = list(_MARKER.finditer(source))
        for match, offset in zip(matches, _byte_offsets(source, matches, start), strict=True):
            line, column = self.lines.position(offset)
            if self._is_excluded(line):
                continue
            context = self.lines.snippet(offset)
            self.plan.markers.append(Marker(match.group(1), line, column, context))

    def _html(self, html: str, start: int) -> None:
        anchors = html_anchors(html)
        if anchors:
            offsets = _byte_offsets(html, [a[1] for a in anchors], start)
            for (anchor, _), offset in zip(anchors, offsets, strict=True):
                line, column = self.lines.position(offset)
                self.manual.append(_PendingAnchor(anchor, line, column, self._section()))
        if "secplan" not in html:
            return
        matches = list(_SUPPRESS.finditer(html))
        for match, offset in zip(matches, _byte_offsets(html, matches, start), strict=True):
            codes = {c.upper() for c in re.split(r"[\s,]+", match.group(1)) if c}
            line = self.lines.line(offset)
            for target in (line, self._next_non_blank(line)):
                if target:
                    self.plan.suppressions.setdefault(target, set()).update(codes)

    def _next_non_blank(self, line: int) -> int | None:
        # Memoised: many comments on one line must not each scan the blank lines after it.
        if line in self._next_non_blank_of:
            return self._next_non_blank_of[line]
        found = None
        for candidate in range(line + 1, self.lines.last_line + 1):
            if self.lines.line_text(candidate).strip():
                found = candidate
                break
        self._next_non_blank_of[line] = found
        return found

    def _end_heading(self, data: dict[str, Any], text: str, start: int, end: int) -> None:
        raw_attrs = data.get("attrs")
        attrs = heading_attrs(tuple(raw_attrs)) if raw_attrs else _NO_ATTRS
        classes = set(data.get("classes") or ()) | set(attrs.classes)
        line, column = self.lines.position(start)
        title = " ".join(strip_ials(text).split())
        source_line = self.lines.line_text(line)
        if has_inline_diff(source_line) and source_line.lstrip().startswith("#"):
            # `# {+ Title +}`: the attribute extension took the braces; GitLab shows the words.
            title, attrs, classes = atx_heading_text(source_line), _NO_ATTRS, set()
            data = {**data, "id": None}
        self.headings.append(
            Heading(
                title=title,
                level=int(str(data["level"])[1:]),
                line=line,
                column=column,
                explicit_id=data.get("id") or attrs.id,
                no_toc="no_toc" in classes,
                # Only kramdown ids need the heading as written; GitLab's use the text.
                source=_heading_source(self.lines.data[start:end].decode("utf-8", "replace"))
                if self.flavour == "kramdown"
                else "",
            )
        )

    def _apply_heading_ial(self, heading: Heading, text: str) -> None:
        attrs = parse_ial(text)
        if attrs.id:
            heading.explicit_id = attrs.id
        if "no_toc" in attrs.classes:
            heading.no_toc = True

    def _start_item(self, start: int, end: int) -> None:
        line, column = self.lines.position(start)
        in_task = bool(self.frames) and (self.frames[-1].task or self.frames[-1].in_task)
        self._block_started()
        self.frames.append(
            _ItemFrame(start, end, line, column, in_task=in_task, section=self._section())
        )

    def _end_item(self) -> None:
        if not self.frames:
            return
        frame = self.frames.pop()
        if frame.in_task or self._is_excluded(frame.line):
            return
        if frame.task:
            self._task_item(frame)
            return
        prose = strip_ials("".join(frame.prose))
        found = strongest_keyword(prose)
        if found:
            text = " ".join(strip_ials("".join(frame.text)).split())
            self.requirements.append(
                _PendingRequirement(found[0], found[1], text, frame.line, frame.section)
            )

    def _task_item(self, frame: _ItemFrame) -> None:
        data = self.lines.data
        eol = data.find(b"\n", frame.marker_end)
        eol = len(data) if eol == -1 else eol
        raw = data[frame.marker_end : eol].decode("utf-8", "replace").strip()
        title_line = self.lines.line(frame.marker_end)
        end_line = self.lines.line(max(frame.start, frame.end - 1))
        nested = self.lines.lines_text(title_line + 1, end_line)
        quote = _QUOTE_PREFIX.match(self.lines.line_text(title_line))
        if quote:  # an item inside a blockquote: its description lines carry the same '>'s
            depth = quote.group(0).count(">")
            nested = [_strip_quote(line, depth) for line in nested]
        description = item_syntax.dedent_description(nested)
        tokens = item_syntax.split_title(raw)
        spike = item_syntax.is_spike(tokens.title)
        labels = list(tokens.labels)
        if spike and "spike" not in labels:
            labels.append("spike")
        item = WorkItem(
            id=tokens.explicit_id or "",
            title=tokens.title,
            line=frame.line,
            column=frame.column,
            description=description,
            acceptance=item_syntax.acceptance_criteria(description),
            milestone=tokens.milestone,
            labels=labels,
            assignees=tokens.assignees,
            done=frame.done,
            spike=spike,
            timebox=tokens.timebox or item_syntax.find_timebox(description),
            has_question=item_syntax.has_question(f"{tokens.title}\n{description}"),
            explicit_id=tokens.explicit_id is not None,
            raw_title=raw,
        )
        self.items.append(_PendingItem(item, frame.section, tokens.refs))

    # -- after the walk ---------------------------------------------------------------------

    def _finish(self) -> None:
        plan = self.plan
        plan.sections, anchors = build_sections(self.headings, self.flavour, self.lines.last_line)
        if plan.title is None and "title" not in plan.front_matter:
            # Pages without `title:` are still titled: by their first top-level heading.
            plan.title = next((s.title for s in plan.sections if s.level == 1 and s.title), None)

        def section_anchor(index: int) -> str | None:
            return plan.sections[index].anchor if index >= 0 else None

        for pending in self.manual:
            anchors.append(
                Anchor(
                    pending.id,
                    pending.line,
                    pending.column,
                    kind="manual",
                    section=section_anchor(pending.section),
                )
            )
        plan.anchors = anchors
        plan.diagnostics.extend(duplicate_anchors(anchors))
        counters: dict[str | None, int] = {}
        # Nested list items end before their parents; number requirements in reading order.
        self.requirements.sort(key=lambda r: r.line)
        self.items.sort(key=lambda p: p.item.line)
        for req in self.requirements:
            anchor = section_anchor(req.section)
            counters[anchor] = counters.get(anchor, 0) + 1
            plan.requirements.append(
                Requirement(
                    id=requirement_id(anchor, counters[anchor]),
                    level=req.level,
                    text=req.text,
                    line=req.line,
                    section=anchor,
                    keyword=req.keyword,
                )
            )
        for pending_item in self.items:
            pending_item.item.section = section_anchor(pending_item.section)
            problem = resolve_item_ref(pending_item.item, pending_item.refs, self.project)
            if problem:
                plan.diagnostics.append(problem)
        work_items = [p.item for p in self.items]
        work_items.extend(generate_items(plan.requirements_mode, plan.requirements, plan.sections))
        plan.diagnostics.extend(assign_item_ids(work_items))
        plan.items = work_items
