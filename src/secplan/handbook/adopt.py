"""``secplan adopt``: take over a handbook whose catalog table is written by hand.

Real handbooks keep a table such as ``| Plan | Other Resources and Links |`` on the catalog page,
with no markers. Adoption reads that table (pyromark table events with byte ranges), maps each
row to a plan by its link, and moves what the row says into the plan's front matter: an epic
link becomes ``epic:`` (as a normalised ``group&iid`` reference), every other link a
``resources:`` entry with its title kept (entries already there are not added twice). Then the
hand-written table is replaced by the catalog markers and the generated table.

Only the front-matter keys that change are rewritten (see :mod:`frontmatter_edit`); Markdown
bodies and everything on the catalog page outside the table stay byte-identical. A page that
already has markers is already adopted: a second run changes nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyromark

from secplan.errors import NotFoundError, SecplanError
from secplan.handbook.catalog import (
    END_MARKER,
    START_MARKER,
    atomic_write,
    find_region,
    read_page,
    render_catalog_table,
    write_catalog,
)
from secplan.handbook.frontmatter_edit import (
    FrontMatterEdit,
    body_offset,
    edit_front_matter_text,
)
from secplan.handbook.loader import Handbook
from secplan.model import Link, Plan
from secplan.refs import parse_epic_ref, parse_ref

_SUFFIXES = (".html.md", ".html.erb", ".md", ".html", ".htm")
KEPT_ROWS_NOTE = "Rows of the former hand-written table that name no plan of this handbook:"
_CONTAINERS = ("BlockQuote", "List", "Item", "FootnoteDefinition", "DefinitionList")


@dataclass
class RowLink:
    """A link found in a table row."""

    title: str
    url: str
    cell: int


@dataclass
class TableRow:
    """One body row of the hand-written table."""

    line: int
    text: str  # plain text of the first cell
    links: list[RowLink] = field(default_factory=list)


@dataclass
class HandTable:
    """The hand-written catalog table: its byte range on the page and its rows."""

    start: int  # byte offsets in the page (front matter included)
    end: int
    line: int
    header: list[str]
    rows: list[TableRow]


@dataclass
class AdoptReport:
    """What adoption did (or, with ``dry_run``, would do)."""

    catalog_path: Path
    already_managed: bool = False
    table_line: int = 0
    updated_plans: list[str] = field(default_factory=list)  # plan ids whose front matter changed
    changed_files: list[Path] = field(default_factory=list)
    catalog_changed: bool = False
    unlisted_plans: list[str] = field(default_factory=list)  # on disk, not in the table
    unknown_rows: list[tuple[int, str]] = field(default_factory=list)  # (line, first cell)
    conflicts: list[str] = field(default_factory=list)  # human-readable notes
    #: Where the table's epic links pointed ("https://gitlab.com") when no gitlab_url is set:
    #: without it the generated table shows epic references instead of links.
    suggested_gitlab_url: str | None = None


class _Lines:
    """Line numbers of byte offsets that only move forward (pyromark's events come in order):
    each call counts only the newlines since the last, so a table of n rows costs O(page)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset, self.line = data, 0, 1

    def of(self, offset: int) -> int:
        if offset < self.offset:  # not expected; still correct
            return self.data.count(b"\n", 0, offset) + 1
        self.line += self.data.count(b"\n", self.offset, offset)
        self.offset = offset
        return self.line


def find_hand_table(text: str) -> HandTable | None:
    """The first top-level table whose first header cell mentions "plan", with its rows."""
    body_at = body_offset(text)
    prefix_bytes = len(text[:body_at].encode("utf-8"))
    body = text[body_at:]
    lines = _Lines(text.encode("utf-8"))
    depth = 0
    table: HandTable | None = None
    in_head = False
    cell = -1
    cell_text: list[str] = []
    row: TableRow | None = None
    link: RowLink | None = None
    options = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
    for raw_event, rng in pyromark.events_with_range(body, options=options):
        event: Any = raw_event  # pyromark's TypedDict union is too narrow to match on keys
        start, end = rng["start"] + prefix_bytes, rng["end"] + prefix_bytes
        if isinstance(event, dict) and "Start" in event:
            tag = event["Start"]
            name = tag if isinstance(tag, str) else next(iter(tag))
            if name in _CONTAINERS:
                depth += 1
            elif name == "Table" and depth == 0 and table is None:
                table = HandTable(start, end, lines.of(start), [], [])
            elif table is not None and name == "TableHead":
                in_head, cell = True, -1
            elif table is not None and name == "TableRow" and start < table.end:
                row, cell = TableRow(lines.of(start), ""), -1
            elif table is not None and name == "TableCell":
                cell += 1
                cell_text = []
            elif table is not None and name == "Link" and row is not None:
                dest = tag["Link"]["dest_url"] if isinstance(tag, dict) else ""
                link = RowLink("", str(dest), cell)
        elif isinstance(event, dict) and "End" in event:
            tag = event["End"]
            name = tag if isinstance(tag, str) else next(iter(tag))
            if name in _CONTAINERS:
                depth -= 1
            elif table is None:
                continue
            elif name == "TableCell":
                joined = " ".join("".join(cell_text).split())
                if in_head:
                    table.header.append(joined)
                elif row is not None and cell == 0:
                    row.text = joined
            elif name == "TableHead":
                in_head = False
                if not table.header or "plan" not in table.header[0].lower():
                    table = None  # not the catalog table; keep looking
            elif name == "TableRow" and row is not None:
                table.rows.append(row)
                row = None
            elif name == "Link" and link is not None and row is not None:
                link.title = " ".join(link.title.split())
                row.links.append(link)
                link = None
            elif name == "Table":
                return table
        elif table is not None and isinstance(event, dict):
            for key in ("Text", "Code"):
                if key in event:
                    cell_text.append(str(event[key]))
                    if link is not None:
                        link.title += str(event[key])
    return None


def _candidate_paths(url: str) -> list[str]:
    """Plan ids a link could mean, most specific first."""
    if parse_ref(url):
        return []  # an issue or epic, never a plan page
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return []
    path = unquote(parts.path).strip()
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    path = path.rstrip("/")
    if path.endswith("/index") or path == "index":
        path = path[: -len("index")].rstrip("/")
    segments = [s for s in posixpath.normpath("/" + path).split("/") if s and s != ".."]
    return ["/".join(segments[i:]) for i in range(len(segments))]


def linked_plan_id(row: TableRow, ids: Container[str]) -> tuple[str | None, RowLink | None]:
    """The plan id the first matching link of a row's first cell names, and that link."""
    for link in row.links:
        if link.cell != 0:
            continue
        for candidate in _candidate_paths(link.url):
            if candidate in ids:
                return candidate, link
    return None, None


def match_plan(row: TableRow, plans: Mapping[str, Plan]) -> tuple[Plan | None, RowLink | None]:
    """The plan a row names (by the first matching link in its first cell, else by title)."""
    pid, link = linked_plan_id(row, plans)
    if pid is not None:
        return plans[pid], link
    wanted = row.text.strip().lower()
    if wanted:
        for plan in plans.values():
            if plan.title and plan.title.strip().lower() == wanted:
                return plan, None
    return None, None


def _plan_edit(
    plan: Plan, row: TableRow, plan_link: RowLink | None, report: AdoptReport
) -> tuple[FrontMatterEdit, str | None, list[Link]]:
    """The front-matter changes a row asks for, plus the epic and new resources it adds."""
    edit = FrontMatterEdit()
    new_epic: str | None = None
    known_urls = {r.url.strip() for r in plan.resources}
    new_resources: list[Link] = []
    if not plan.title and not plan.front_matter.get("title"):
        title = (plan_link.title if plan_link else "") or row.text
        if title:
            edit.set["title"] = title
    for link in row.links:
        if link is plan_link or not link.url.strip():
            continue
        url = link.url.strip()
        ref = parse_epic_ref(url)
        if ref is not None:
            current = plan.epic or new_epic
            if current is None:
                new_epic = str(ref)
                edit.set["epic"] = new_epic
                if url.startswith(("http://", "https://")) and not report.suggested_gitlab_url:
                    parts = urlsplit(url)
                    report.suggested_gitlab_url = f"{parts.scheme}://{parts.netloc}"
                continue
            if current == str(ref):
                continue
            report.conflicts.append(
                f"{plan.rel_path}: keeps epic {current}; the table also links epic {ref}"
                " (added as a resource)"
            )
        if url in known_urls:
            continue
        known_urls.add(url)
        new_resources.append(Link(title=link.title or url, url=url))
    if new_resources:
        edit.append["resources"] = [{"title": r.title, "url": r.url} for r in new_resources]
    return edit, new_epic, new_resources


def adopt_handbook(handbook: Handbook, *, dry_run: bool = False) -> AdoptReport:
    """Adopt the handbook's hand-written catalog table (see the module docstring).

    Raises :class:`NotFoundError` when there is no catalog page or no table with a "Plan"
    column on it. With ``dry_run`` nothing is written; the report says what would change.
    """
    path = handbook.catalog_path
    if path is None or not path.is_file():
        raise NotFoundError(
            "the handbook has no catalog page (index.md, _index.md or index.html.md)",
            path=handbook.root,
            hint=f"Create index.md with the lines '{START_MARKER}' and '{END_MARKER}'.",
        )
    report = AdoptReport(catalog_path=path)
    try:
        page = read_page(path)
    except UnicodeDecodeError:
        raise SecplanError("the catalog page is not valid UTF-8", path=path) from None
    if find_region(page.splitlines()) is not None:
        report.already_managed = True
        report.catalog_changed = False if dry_run else write_catalog(handbook)
        return report
    table = find_hand_table(page)
    if table is None:
        raise NotFoundError(
            "the catalog page has no table with a 'Plan' column to adopt",
            path=path,
            hint=f"Add the lines '{START_MARKER}' and '{END_MARKER}' where the catalog belongs,"
            " then run 'secplan catalog --write'.",
        )
    report.table_line = table.line
    plans = handbook.by_id()
    listed: set[str] = set()
    pending: dict[str, tuple[Plan, str, str]] = {}  # plan id -> plan, old text, new text
    for row in table.rows:
        plan, plan_link = match_plan(row, plans)
        if plan is None:
            report.unknown_rows.append((row.line, row.text))
            continue
        listed.add(plan.id)
        edit, new_epic, new_resources = _plan_edit(plan, row, plan_link, report)
        if not edit:
            continue
        # Two rows may name the same plan: the second edit starts from the first one's result.
        original, text = pending[plan.id][1:] if plan.id in pending else (read_page(plan.path),) * 2
        pending[plan.id] = (plan, original, edit_front_matter_text(text, edit, path=plan.path))
        # Keep the in-memory plan in step with the file so the table below is right.
        if new_epic:
            plan.epic = new_epic
        if "title" in edit.set:
            plan.title = str(edit.set["title"])
        plan.resources.extend(new_resources)
    report.unlisted_plans = sorted(set(plans) - listed)
    if getattr(handbook.config, "gitlab_url", None):
        report.suggested_gitlab_url = None

    data = page.encode("utf-8")
    newline = "\r\n" if b"\r\n" in data[table.start : table.end] else "\n"
    generated = render_catalog_table(handbook).replace("\n", newline)
    block = START_MARKER + newline + generated + END_MARKER
    if report.unknown_rows:
        # Rows that name no plan are kept verbatim in a table of their own: adoption must
        # never drop what someone wrote.
        table_lines = data[table.start : table.end].decode("utf-8").splitlines()
        first = table.line
        unknown = {line for line, _ in report.unknown_rows}
        kept = table_lines[:2] + [table_lines[ln - first] for ln in sorted(unknown)]
        block += newline + newline + KEPT_ROWS_NOTE + newline + newline + newline.join(kept)
    if data[table.start : table.end].endswith(b"\n"):
        block += newline
    new_page = (data[: table.start] + block.encode("utf-8") + data[table.end :]).decode("utf-8")

    for plan, original, new_text in pending.values():
        if new_text == original:
            continue
        report.updated_plans.append(plan.id)
        report.changed_files.append(plan.path)
        if not dry_run:
            atomic_write(plan.path, new_text)
    report.catalog_changed = new_page != page
    if report.catalog_changed:
        report.changed_files.append(path)
        if not dry_run:
            atomic_write(path, new_page)
    return report
