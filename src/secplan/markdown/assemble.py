"""After the walk: headings become sections and anchors, items get ids and resolved refs.

These steps need the whole document (a later IAL may set a heading's id, a later explicit id
must not be taken by an earlier item), so they run once the event walk is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from secplan.markdown.slugs import SlugRegistry, gitlab_slug, slugify
from secplan.model import Anchor, Diagnostic, Section, WorkItem
from secplan.refs import MAX_IID, iid_too_large, parse_issue_ref


@dataclass
class Heading:
    """A heading as the walk saw it, before its anchor is decided."""

    title: str
    level: int
    line: int
    column: int
    explicit_id: str | None
    no_toc: bool
    source: str = ""  # the heading as written (kramdown derives its ids from this)


def build_sections(
    headings: list[Heading], flavour: str, last_line: int
) -> tuple[list[Section], list[Anchor]]:
    """Sections with anchors and end lines, and the heading anchors, in document order."""
    registry = SlugRegistry(faithful=True)
    sections: list[Section] = []
    anchors: list[Anchor] = []
    for heading in headings:
        if heading.explicit_id:
            anchor = heading.explicit_id
        else:
            text = heading.source if flavour == "kramdown" else heading.title
            anchor = registry.unique(slugify(text, flavour) or "section")
        explicit = bool(heading.explicit_id)
        sections.append(
            Section(
                title=heading.title,
                level=heading.level,
                anchor=anchor,
                line=heading.line,
                explicit=explicit,
                no_toc=heading.no_toc,
            )
        )
        anchors.append(
            Anchor(
                anchor,
                heading.line,
                heading.column,
                kind="explicit" if explicit else "heading",
                section=anchor,
            )
        )
    # A section ends before the next heading of the same or a higher level.
    open_sections: list[Section] = []
    for section in sections:
        while open_sections and open_sections[-1].level >= section.level:
            open_sections.pop().end_line = section.line - 1
        open_sections.append(section)
    for section in open_sections:
        section.end_line = last_line
    return sections, anchors


def duplicate_anchors(anchors: list[Anchor]) -> list[Diagnostic]:
    """SP201 for explicit/manual anchors repeated, or equal to a heading's automatic anchor."""
    auto = {a.id for a in anchors if a.kind == "heading"}
    seen: dict[str, int] = {}
    problems = []
    for anchor in anchors:
        if anchor.kind == "heading":
            continue
        if anchor.id in seen:
            message = f"anchor '{anchor.id}' is already defined on line {seen[anchor.id]}"
        elif anchor.id in auto:
            message = f"anchor '{anchor.id}' clashes with a heading's automatic anchor"
        else:
            seen[anchor.id] = anchor.line
            continue
        problems.append(Diagnostic("SP201", message, line=anchor.line, column=anchor.column))
    return problems


def resolve_item_ref(item: WorkItem, refs: list[str], project: str | None) -> Diagnostic | None:
    """Set ``item.ref`` from the first reference written in its title; SP103 if unusable."""
    if not refs:
        return None
    written = refs[0]
    ref = parse_issue_ref(written, default_project=project)
    if ref is not None:
        item.ref = str(ref)
        return None
    item.ref = written
    hint = (
        f" (its number is larger than {MAX_IID})"
        if iid_too_large(written)
        else " (set 'tracker:' in the front matter or secplan.toml to resolve '#IID')"
        if written.startswith("#")
        else ""
    )
    return Diagnostic(
        "SP103",
        f"work item reference {written!r} is not an issue reference{hint}",
        line=item.line,
        column=item.column,
    )


def assign_item_ids(items: list[WorkItem]) -> list[Diagnostic]:
    """Give every item without an explicit id a unique one; SP201 for repeated explicit ids.

    Automatic ids are the GitLab slug of the title (generated items keep their requirement
    based id as the base), made unique with ``-1``, ``-2``... and never taking an explicit id.
    """
    problems = []
    explicit: dict[str, int] = {}
    for item in items:
        if not item.explicit_id:
            continue
        if item.id in explicit:
            problems.append(
                Diagnostic(
                    "SP201",
                    f"work item id '{item.id}' is already used on line {explicit[item.id]}",
                    line=item.line,
                    column=item.column,
                )
            )
        else:
            explicit[item.id] = item.line
    registry = SlugRegistry()
    for item in items:
        if item.explicit_id:
            continue
        base = item.id if item.generated else gitlab_slug(item.title) or "item"
        candidate = registry.unique(base)
        while candidate in explicit:
            candidate = registry.unique(base)
        item.id = candidate
    return problems
