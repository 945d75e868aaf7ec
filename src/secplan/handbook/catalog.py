"""The catalog: the table on the handbook's catalog page that lists every plan.

The table lives between two marker lines on the catalog page (``index.md``, ``_index.md`` or
``index.html.md``)::

    <!-- secplan:catalog -->
    | Plan | Status | Epic | Other Resources and Links |
    | --- | --- | --- | --- |
    | [Secrets rotation for CI runners](./secrets-rotation) | ready | security&12 | ... |
    <!-- /secplan:catalog -->

Only the lines between the markers are ever rewritten; everything else on the page is left
byte for byte. A page without markers is *not managed* by secplan: it is not reported as stale
(``secplan adopt`` turns a hand-written table into a managed one).

The Epic column links to the epic when a URL for it is known: the plan's ``epic:`` written as
a URL is used as is; a ``group&iid`` reference is linked as
``<gitlab_url>/groups/<group>/-/epics/<iid>`` when ``gitlab_url`` is configured. Otherwise
the cell holds the reference text alone, which GitLab itself renders as a link to the epic.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secplan.errors import NotFoundError, SecplanError
from secplan.handbook.loader import Handbook
from secplan.model import STATUSES, Link, Plan

START_MARKER = "<!-- secplan:catalog -->"
END_MARKER = "<!-- /secplan:catalog -->"
HEADER = ("Plan", "Status", "Epic", "Other Resources and Links")

_START_RE = re.compile(r"^\s{0,3}<!--\s*secplan:catalog\s*-->\s*$")
_END_RE = re.compile(r"^\s{0,3}<!--\s*/secplan:catalog\s*-->\s*$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")
_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


@dataclass
class CatalogStatus:
    """Whether the catalog page's table matches the plans.

    ``stale`` is only ever true for a managed page (one with markers): a page without markers,
    or a handbook without a catalog page, is "not managed", never stale.
    """

    path: Path | None  # the catalog page, None when the handbook has none
    line: int  # line of the start marker (1 when there is none)
    stale: bool
    has_markers: bool


@dataclass
class _Region:
    """Where the managed table sits in the catalog page's lines (0-based, exclusive end)."""

    start: int  # index of the start-marker line
    end: int  # index of the end-marker line


def _escape_cell(text: str) -> str:
    """Make free text safe inside a table cell: one line, shown as written.

    Every character Markdown could read as syntax inside a cell (emphasis, code, links, HTML,
    entities, strikethrough, the cell separator) is backslash-escaped; control characters are
    written as visible escapes (the page is read in terminals and editors too).
    """
    from secplan.termsafe import termsafe  # a warm check writes no catalog

    return _MD_SPECIAL.sub(r"\\\1", termsafe(" ".join(text.split())))


def _escape_ref(text: str) -> str:
    """A validated reference or status: only the cell separator can matter."""
    from secplan.termsafe import termsafe

    return termsafe(" ".join(text.split())).replace("|", "\\|")


def _escape_link_text(text: str) -> str:
    return _escape_cell(text)


def _link_target(url: str) -> str:
    url = url.strip().replace("|", "%7C")
    if any(c in url for c in " ()<>"):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def safe_url(url: str) -> bool:
    """Whether a resource URL may become a link: relative, or http(s)/mailto.

    Read as a browser would after Markdown decoded it (entities decoded, the blanks and
    controls browsers skip removed), so ``java&#9;script:`` is caught too.
    """
    import html  # only pages with links need it; a warm check reads none

    seen = _IGNORED_IN_URLS.sub("", html.unescape(url))
    m = _SCHEME.match(seen)
    return m is None or m.group(1).lower() in _SAFE_SCHEMES


def _md_link(title: str, url: str) -> str:
    if not safe_url(url):
        # Other renderers of the page may not neutralise javascript: and the like: no link.
        return _escape_link_text(title or url)
    return f"[{_escape_link_text(title or url)}]({_link_target(url)})"


def epic_url(plan: Plan, gitlab_url: str | None) -> str | None:
    """The web address of the plan's epic, when one is known (see the module docstring)."""
    raw = plan.front_matter.get("epic")
    if isinstance(raw, str) and raw.strip().startswith(("http://", "https://")):
        return raw.strip()
    if not plan.epic or not gitlab_url:
        return None
    from secplan.refs import parse_epic_ref  # its patterns compile on import; few runs need it

    ref = parse_epic_ref(plan.epic)
    if ref is None:
        return None
    return f"{gitlab_url.rstrip('/')}/groups/{ref.path}/-/epics/{ref.iid}"


def _gitlab_url(handbook: Handbook) -> str | None:
    return config_gitlab_url(handbook.config)


def config_gitlab_url(config: object) -> str | None:
    """The configured GitLab address the Epic column links to, if any."""
    value = getattr(config, "gitlab_url", None)
    return value if isinstance(value, str) and value else None


def _sorted_plans(handbook: Handbook) -> list[Plan]:
    return sorted(handbook.plans, key=lambda p: p.id)


def _epic_cell(plan: Plan, gitlab_url: str | None) -> str:
    text = plan.epic or (plan.front_matter.get("epic") if plan.front_matter else None)
    if not text or not isinstance(text, str):
        return ""
    url = epic_url(plan, gitlab_url)
    shown = _escape_ref(text) if plan.epic else _escape_cell(text)
    return f"[{shown}]({_link_target(url)})" if url else shown


def _resources_cell(resources: list[Link]) -> str:
    return "<br>".join(_md_link(r.title, r.url) for r in resources if r.url)


def render_catalog_table(handbook: Handbook) -> str:
    """The catalog table as Markdown (no markers), one row per plan ordered by plan id.

    Ends with a newline. Cells are single-line with ``|`` escaped, so any title or link text
    keeps the table intact.
    """
    gitlab_url = _gitlab_url(handbook)
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---" for _ in HEADER) + " |",
    ]
    if handbook.catalog_rows is not None:
        lines.extend(row for _, row in sorted(handbook.catalog_rows.items()))
    else:
        lines.extend(catalog_row(plan, gitlab_url) for plan in _sorted_plans(handbook))
    return "\n".join(lines) + "\n"


def catalog_row(plan: Plan, gitlab_url: str | None) -> str:
    """The plan's row of the catalog table (what the catalog needs to know of a plan)."""
    cells = (
        _md_link(plan.title or plan.id, f"./{plan.id}"),
        _escape_ref(plan.status) if plan.status in STATUSES else _escape_cell(plan.status),
        _epic_cell(plan, gitlab_url),
        _resources_cell(plan.resources),
    )
    return "| " + " | ".join(cells) + " |"


def catalog_json(handbook: Handbook) -> list[dict[str, Any]]:
    """The catalog as data: one object per plan, ordered by plan id."""
    gitlab_url = _gitlab_url(handbook)
    return [
        {
            "id": plan.id,
            "title": plan.title,
            "status": plan.status,
            "path": plan.rel_path,
            "link": f"./{plan.id}",
            "epic": plan.epic,
            "epic_url": epic_url(plan, gitlab_url),
            "source": plan.source,
            "resources": [{"title": r.title, "url": r.url} for r in plan.resources],
        }
        for plan in _sorted_plans(handbook)
    ]


def find_region(lines: list[str]) -> _Region | None:
    """The start/end marker lines of the managed table, ignoring markers inside fenced code."""
    fence: str | None = None
    start: int | None = None
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if m:
            mark = m.group(1)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip()[len(mark) :]:
                fence = None
            continue
        if fence is not None:
            continue
        if start is None and _START_RE.match(line):
            start = i
        elif start is not None and _END_RE.match(line):
            return _Region(start, i)
    return None


def read_page(path: Path) -> str:
    """The text of a page as stored, line endings included."""
    # newline="" keeps "\r\n" so a rewrite preserves the page's own line endings.
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _table_lines(lines: list[str]) -> list[str]:
    """Lines between the markers, compared loosely (trailing spaces, outer blank lines)."""
    stripped = [line.rstrip() for line in lines]
    while stripped and not stripped[0]:
        stripped.pop(0)
    while stripped and not stripped[-1]:
        stripped.pop()
    return stripped


def catalog_status(handbook: Handbook) -> CatalogStatus:
    """Is the managed catalog table out of date? (Pages without markers are never stale.)"""
    path = handbook.catalog_path
    if path is None or not path.is_file():
        return CatalogStatus(path=path, line=1, stale=False, has_markers=False)
    try:
        text = read_page(path)
    except (OSError, UnicodeDecodeError):
        return CatalogStatus(path=path, line=1, stale=False, has_markers=False)
    lines = text.splitlines()
    region = find_region(lines)
    if region is None:
        return CatalogStatus(path=path, line=1, stale=False, has_markers=False)
    current = _table_lines(lines[region.start + 1 : region.end])
    wanted = render_catalog_table(handbook).splitlines()
    return CatalogStatus(
        path=path, line=region.start + 1, stale=current != wanted, has_markers=True
    )


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines as given) without a half-written file.

    The data is flushed to disk before the rename and the directory after it, so a power cut
    leaves the old file or the new one, never an empty one. A file that cannot be written raises
    :class:`SecplanError` naming it (never a traceback).
    """
    import tempfile  # writing is rare; a check that writes nothing need not import it

    path = path.resolve()  # a symlinked page is written through, not replaced by a file
    try:
        mode = path.stat().st_mode if path.exists() else None
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SecplanError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise SecplanError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
        raise


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename itself has happened
    finally:
        os.close(fd)


def replace_region(text: str, table: str, region: _Region | None = None) -> str:
    """``text`` with the lines between the markers replaced by ``table``.

    ``region`` defaults to the markers found in ``text``; the marker lines themselves and every
    line outside them are kept exactly, line endings included.
    """
    lines = text.splitlines(keepends=True)
    if region is None:
        region = find_region([line.rstrip("\r\n") for line in lines])
        if region is None:
            raise ValueError("no catalog markers")
    newline = "\r\n" if lines[region.start].endswith("\r\n") else "\n"
    body = [row + newline for row in table.splitlines()]
    return "".join(lines[: region.start + 1] + body + lines[region.end :])


def no_markers_error(path: Path | None) -> NotFoundError:
    """The error for a catalog page secplan does not manage (or a missing page)."""
    if path is None:
        return NotFoundError(
            "the handbook has no catalog page (index.md, _index.md or index.html.md)",
            hint="Run 'secplan init' to create one (it keeps existing files), or create index.md "
            f"with the lines '{START_MARKER}' and '{END_MARKER}'.",
        )
    return NotFoundError(
        f"the catalog page has no '{START_MARKER}' ... '{END_MARKER}' markers",
        path=path,
        hint="Run 'secplan adopt' to take over a hand-written table, or add the two marker lines.",
    )


def write_catalog(handbook: Handbook) -> bool:
    """Rewrite the table between the markers; True when the page changed.

    Raises :class:`~secplan.errors.NotFoundError` when there is no catalog page or it has no
    markers. An up-to-date table is not rewritten (the file is not touched at all).
    """
    path = handbook.catalog_path
    if path is None or not path.is_file():
        raise no_markers_error(None)
    try:
        text = read_page(path)
    except UnicodeDecodeError:
        raise NotFoundError("the catalog page is not valid UTF-8", path=path) from None
    lines = text.splitlines()
    region = find_region(lines)
    if region is None:
        raise no_markers_error(path)
    table = render_catalog_table(handbook)
    if _table_lines(lines[region.start + 1 : region.end]) == table.splitlines():
        return False
    atomic_write(path, replace_region(text, table, region))
    return True
