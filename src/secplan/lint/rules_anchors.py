"""SP2xx: anchors and links — duplicate anchors, links to missing anchors or plans."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from secplan.lint.context import LintContext
from secplan.lint.registry import Finding, rule
from secplan.model import Plan

#: Browsers scroll to the top for ``#top`` even when no element has that id.
_IMPLICIT_ANCHORS = frozenset({"top"})
_PAGE_SUFFIXES = (".html.md", ".md", ".html")


def plan_id_for(rel_path: str) -> str:
    """The plan id for a path relative to the root: no extension, no trailing ``/index``."""
    path = rel_path.strip("/")
    for suffix in _PAGE_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if path == "index":
        return ""
    return path.removesuffix("/index")


@rule("SP201", "duplicate-anchor", "error", summary="Two anchors in one plan share an id.")
def duplicate_anchor(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """Two explicit anchors share an id, or an explicit anchor clashes with a heading's id."""
    seen: dict[str, int] = {}
    explicit_ids = {a.id for a in plan.anchors if a.kind != "heading"}
    for anchor in sorted(plan.anchors, key=lambda a: (a.line, a.column)):
        if anchor.id in seen and anchor.id in explicit_ids:
            yield Finding(
                "SP201",
                f"anchor `#{anchor.id}` is already defined on line {seen[anchor.id]}",
                anchor.line,
                anchor.column,
            )
        seen.setdefault(anchor.id, anchor.line)


@rule("SP202", "broken-anchor-link", "warning", summary="`](#x)` names no anchor of the plan.")
def broken_anchor_link(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A link ``](#x)`` whose anchor does not exist in the plan."""
    ids: set[str] | None = None
    index: dict[str, str] | None = None
    for link in plan.links:
        if not link.url.startswith("#") or len(link.url) < 2:
            continue
        target = unquote(link.url[1:])
        if target in _IMPLICIT_ANCHORS:
            continue
        if ids is None:
            ids = ctx.anchor_ids(plan)
        if target not in ids:
            if index is None:
                index = loose_index(ids)
            hint = _did_you_mean(target, index)
            yield Finding(
                "SP202",
                f"link to `#{target}`: no such anchor in this plan{hint}",
                link.line,
                link.column,
            )


def _loose(anchor: str) -> str:
    # GitHub keeps runs of '-' in heading ids, GitLab folds them: ``a--b`` vs ``a-b``.
    return _DASHES.sub("-", anchor.lower())


_DASHES = re.compile(r"-+")


def _did_you_mean(target: str, index: dict[str, str]) -> str:
    """A hint naming the anchor ``target`` probably meant (same id up to case and dashes).

    ``index`` (:func:`loose_index`) is built once per plan, so each broken link costs one lookup
    instead of a pass over every anchor.
    """
    found = index.get(_loose(target))
    return f" (did you mean `#{found}`?)" if found is not None else ""


def loose_index(ids: set[str]) -> dict[str, str]:
    """Loose form of each anchor id -> the first id (in sorted order) with that form."""
    index: dict[str, str] = {}
    for candidate in sorted(ids):
        index.setdefault(_loose(candidate), candidate)
    return index


def _judged_page(path: str) -> bool:
    """Whether a link path points at a page (a plan) rather than an asset such as an image."""
    if path.endswith("/"):
        return True
    last = path.rsplit("/", 1)[-1]
    return last.endswith(_PAGE_SUFFIXES) or "." not in last


def _candidates(plan: Plan, path: str) -> tuple[list[str], bool]:
    """Root-relative targets the link may mean, and whether some reading leaves the root."""
    # Repositories resolve links against the file's folder; published sites with pretty URLs
    # (``a/b.md`` served at ``a/b/``) against the page's own folder. Accept either.
    bases = [posixpath.dirname(plan.rel_path)]
    if plan.id and plan.id not in bases:
        bases.append(plan.id)
    found = []
    leaves = False
    for base in bases:
        joined = posixpath.normpath(posixpath.join(base, path) if base else path)
        if joined == ".":
            joined = ""
        if joined == ".." or joined.startswith("../"):
            leaves = True
        else:
            found.append(joined)
    return found, leaves


@rule(
    "SP203",
    "broken-plan-link",
    "warning",
    summary="A relative link to a plan (or `plan#anchor`) of this handbook that does not exist.",
)
def broken_plan_link(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A relative link to a plan of this handbook, or to ``plan#anchor``, that does not exist."""
    for link in plan.links:
        url = link.url.strip()
        if not url or url.startswith(("#", "/")):
            continue
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme or parts.netloc or not parts.path:
            continue
        path = unquote(parts.path)
        if not _judged_page(path):
            continue
        candidates, leaves = _candidates(plan, path)
        fragment = unquote(parts.fragment)
        problem = _judge(plan, ctx, candidates, fragment)
        # A link that leaves the handbook under one reading is not ours to judge.
        if problem and not leaves:
            yield Finding("SP203", f"link to `{url}`: {problem}", link.line, link.column)


def _judge(plan: Plan, ctx: LintContext, candidates: list[str], fragment: str) -> str | None:
    missing_anchor: str | None = None
    for target in candidates:
        target_id = plan_id_for(target)
        if target_id == "":
            return None  # the catalog page
        if target_id in ctx.plan_ids:
            if not fragment or fragment in _IMPLICIT_ANCHORS:
                return None
            ids = ctx.anchor_ids(plan) if target_id == plan.id else ctx.plan_anchor_ids(target_id)
            if ids is None or fragment in ids:  # None: not parsed in this run, cannot judge
                return None
            missing_anchor = f"plan `{target_id}` has no anchor `#{fragment}`"
            continue
        if ctx.path_exists(target):
            return None  # a folder or file that is not a plan (assets, a sub-site)
    return missing_anchor or "no plan of this handbook has this path"
