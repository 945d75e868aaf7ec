"""The build's link check: every internal link and anchor of the written site must resolve.

Each written HTML page is reduced to a :class:`PageLinks` record (the ids it defines, the links
it makes and where each link came from); records of pages an incremental build did not rewrite
come from the build manifest, so the check always covers the whole site. A link from a plan's
text is reported at the plan file's line; a link the templates made, at the page's own line.
External links (any URL with a scheme) are listed, never fetched.
"""

from __future__ import annotations

import html as htmllib
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

_ATTR = re.compile(r'\s(href|src)="([^"]*)"')
_ID = re.compile(r'\s(?:id|name)="([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# Link destinations in Markdown source: inline `](url)`, reference definitions, raw HTML.
_MD_INLINE = re.compile(r"\]\(\s*<?([^)\s>]+)")
_MD_REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_HTML_ATTR = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)


@dataclass
class Link:
    """One link on a page: its URL and where it was written (file and line)."""

    url: str
    source: str  # the plan's path in the handbook, or the site page that holds it
    line: int


@dataclass
class PageLinks:
    """What the link check needs of a page: the anchors it has and the links it makes."""

    ids: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The manifest's shape."""
        return {"ids": self.ids, "links": [[x.url, x.source, x.line] for x in self.links]}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PageLinks:
        """Back from :meth:`to_json`."""
        links = data.get("links") or []
        ids = data.get("ids") or []
        return cls(
            ids=[str(i) for i in ids] if isinstance(ids, list) else [],
            links=[Link(str(u), str(s), int(n)) for u, s, n in links]  # type: ignore[union-attr]
            if isinstance(links, list)
            else [],
        )


@dataclass
class Broken:
    """A link that does not resolve inside the site."""

    source: str
    line: int
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: broken link {self.url}: {self.reason}"


def source_links(text: str) -> list[tuple[str, int]]:
    """(URL, 1-based line) of every link destination written in a Markdown file."""
    out: list[tuple[str, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "](" not in line and "=" not in line and "]:" not in line:
            continue
        for pattern in (_MD_INLINE, _HTML_ATTR):
            out.extend((m.group(1), number) for m in pattern.finditer(line))
        ref = _MD_REFDEF.match(line)
        if ref:
            out.append((ref.group(1), number))
    return out


def page_links(
    page: str,
    html: str,
    plan_source: str | None = None,
    lines_by_url: Mapping[str, int] | None = None,
) -> PageLinks:
    """The record of a written page. Links found in ``lines_by_url`` (a plan's rendered URLs
    -> source lines) are attributed to ``plan_source``; the others to the page itself."""
    record = PageLinks(ids=sorted({htmllib.unescape(m.group(1)) for m in _ID.finditer(html)}))
    known = lines_by_url or {}
    line, counted = 1, 0  # lines counted as the matches advance: linear on a big catalog
    for m in _ATTR.finditer(html):
        url = htmllib.unescape(m.group(2))
        if plan_source is not None and url in known:
            record.links.append(Link(url, plan_source, known[url]))
            continue
        line += html.count("\n", counted, m.start())
        counted = m.start()
        record.links.append(Link(url, page, line))
    return record


def _site_path(page: str, url: str, base_path: str | None) -> str | None:
    """The site path a URL on ``page`` names (``""`` is the home page); None leaves the site."""
    if url.startswith("/"):
        if base_path is None:
            return unquote(url.lstrip("/"))
        if not url.startswith(base_path):
            return None
        return unquote(url[len(base_path) :])
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(url)))
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == "..":
        return None
    return joined + ("/" if url.endswith("/") else "")


@dataclass
class PageResult:
    """The link check of one page: its findings, its external links, and what they depend on.

    ``targets`` maps every site file the page links to (resolved, present or not) to the
    anchors it asks of it: a later build reuses the result while none of those files came or
    went and none of the anchored ones changed its ids.
    """

    broken: list[Broken] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)
    targets: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The manifest's shape."""
        return {
            "broken": [[b.source, b.line, b.url, b.reason] for b in self.broken],
            "external": [[x.url, x.source, x.line] for x in self.external],
            "targets": self.targets,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PageResult:
        """Back from :meth:`to_json` (raises on a malformed record)."""
        broken, external, targets = data["broken"], data["external"], data["targets"]
        if not (isinstance(broken, list) and isinstance(external, list)):
            raise TypeError("not a page result")
        if not isinstance(targets, dict):
            raise TypeError("not a page result")
        return cls(
            broken=[Broken(str(s), int(n), str(u), str(r)) for s, n, u, r in broken],
            external=[Link(str(u), str(s), int(n)) for u, s, n in external],
            targets={str(t): [str(a) for a in anchors] for t, anchors in targets.items()},
        )

    def stale(self, came_or_went: Set[str], ids_changed: Set[str]) -> bool:
        """Whether a change of the site can change this result."""
        for target, anchors in self.targets.items():
            if target in came_or_went or f"{target}/index.html" in came_or_went:
                return True
            if anchors and target in ids_changed:
                return True
        return False


def check_page(
    page: str,
    record: PageLinks,
    present: Set[str],
    ids_of: Callable[[str], Set[str] | None],
    base_url: str | None = None,
) -> PageResult:
    """The link check of one page against the site's files (``present``) and the ids of its
    pages (``ids_of``: None for a file that has no record, whose anchors are not checked)."""
    base = urlsplit(base_url) if base_url else None
    base_path = (base.path.rstrip("/") + "/") if base is not None else None
    prefix = base_url.rstrip("/") + "/" if base_url else None
    result = PageResult()
    targets: dict[str, set[str]] = {}
    for link in record.links:
        url = link.url
        if not url or url.startswith("data:"):
            continue
        if prefix is not None and url.startswith(prefix):
            # Keep the base URL's path: site paths are resolved below it.
            url = (base_path or "/").rstrip("/") + url[len(prefix) - 1 :]
        elif _SCHEME.match(url):
            result.external.append(link)
            continue
        path, _, fragment = url.partition("#")
        path = path.split("?", 1)[0]
        target = page if path == "" else _site_path(page, path, base_path)
        if target is None:
            result.broken.append(Broken(link.source, link.line, link.url, "it leaves the site"))
            continue
        if target == "" or target.endswith("/"):
            target += "index.html"
        anchor = unquote(fragment)
        wanted = targets.setdefault(target, set())
        if anchor:
            wanted.add(anchor)
        if target not in present and f"{target}/index.html" in present:
            target = f"{target}/index.html"
            wanted = targets.setdefault(target, set())
            if anchor:
                wanted.add(anchor)
        if target not in present:
            result.broken.append(Broken(link.source, link.line, link.url, f"no file {target}"))
            continue
        ids = ids_of(target) if anchor else None
        if ids is not None and anchor not in ids:
            result.broken.append(
                Broken(link.source, link.line, link.url, f"no anchor #{anchor} in {target}")
            )
    result.targets = {t: sorted(a) for t, a in sorted(targets.items())}
    return result


def check(
    pages: Mapping[str, PageLinks], files: Iterable[str], base_url: str | None = None
) -> tuple[list[Broken], list[Link]]:
    """Broken internal links and the external links of every page (each listed once a page)."""
    present = set(files)
    ids = {page: set(record.ids) for page, record in pages.items()}
    broken: list[Broken] = []
    external: list[Link] = []
    for page, record in sorted(pages.items()):
        result = check_page(page, record, present, ids.get, base_url)
        broken.extend(result.broken)
        external.extend(result.external)
    return broken, external
