"""Where pages live: the URLs templates and rendered plans link to, for the server and the site.

The live server and ``secplan build`` render the same templates; only the addresses differ.
:class:`ServerLinks` gives the server's absolute paths (``/plans/a/b``), :class:`SiteLinks` the
static site's files (``plans/a/b.html``), relative to the page being written or prefixed with
``--base-url``.

A plan's page URL keeps the folder of its file, so relative links and images in the plan resolve
as they do on GitLab for the same file: ``a/b.md`` is ``plans/a/b`` (folder ``plans/a/``), and a
folder plan ``a/b/index.md`` is ``plans/a/b/`` with a trailing slash (folder ``plans/a/b/``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection
from urllib.parse import quote

from secplan.handbook.files import DIR_PLAN_NAMES
from secplan.model import Plan


def is_folder_plan(plan: Plan) -> bool:
    """True for ``name/index.md`` / ``name/index.html.md``: its page URL ends with ``/``."""
    return posixpath.basename(plan.rel_path) in DIR_PLAN_NAMES and "/" in plan.rel_path


def plan_page_path(plan: Plan) -> str:
    """The plan page below ``plans/`` as the server names it: ``a/b`` or ``a/b/`` (folder)."""
    return plan.id + ("/" if is_folder_plan(plan) else "")


def plan_site_file(plan: Plan) -> str:
    """The plan page's file in the static site: ``plans/a/b.html`` or ``plans/a/b/index.html``."""
    if is_folder_plan(plan):
        return f"plans/{plan.id}/index.html"
    return f"plans/{plan.id}.html"


def plan_site_url(plan: Plan) -> str:
    """The plan page's address in the static site: its file, or its folder for folder plans."""
    return (
        plan_site_file(plan).removesuffix("index.html")
        if is_folder_plan(plan)
        else (plan_site_file(plan))
    )


def epic_site_file(ref: str, ext: str = "html") -> str:
    """An epic's page (or JSON twin) in the static site: ``epics/group/sub&16.html``."""
    return f"epics/{ref}.{ext}"


def _q(path: str) -> str:
    return quote(path, safe="/")


class ServerLinks:
    """Addresses of ``secplan serve``: absolute paths, filters as query strings."""

    static_site = False

    def __init__(self, plan_lookup: Callable[[str], Plan | None]) -> None:
        self._lookup = plan_lookup

    def home(self) -> str:
        """The catalog."""
        return "/"

    def catalog_filter(self, **query: str) -> str | None:
        """The catalog filtered (None where the site has no filtered pages)."""
        from urllib.parse import urlencode

        return "/?" + urlencode(query)

    def plan(self, plan_id: str) -> str:
        """A plan's page (``/plans/a/b/`` for folder plans)."""
        plan = self._lookup(plan_id)
        return "/plans/" + _q(plan_page_path(plan) if plan is not None else plan_id)

    def plan_json(self, plan_id: str) -> str:
        """A plan's JSON twin."""
        return f"/plans/{_q(plan_id)}.json"

    def progress(self, plan_id: str) -> str:
        """A plan's burn-up chart (SVG)."""
        return f"/plans/{_q(plan_id)}/progress"

    def epic(self, ref: str) -> str | None:
        """An epic's page."""
        return "/epics/" + quote(ref, safe="")

    def epic_json(self, ref: str) -> str:
        """An epic's JSON twin."""
        return "/epics/" + quote(ref, safe="") + ".json"

    def board(self) -> str | None:
        """The issue board."""
        return "/board"

    def api(self) -> str | None:
        """The API description."""
        return "/openapi.json"

    def search(self) -> str | None:
        """The full-text search page (the static site's; the server searches titles)."""
        return None

    def static(self, name: str) -> str:
        """One of secplan's own assets (stylesheet, script, icon)."""
        return f"/static/{name}"


class SiteLinks:
    """Addresses inside the static site, relative to the page at ``page`` (or absolute).

    ``page`` is the output file being written (``plans/a/b.html``); links are relative to its
    folder unless ``base_url`` is given, which prefixes every link instead. ``epics`` are the
    epic refs that have pages; ``board`` says whether the board was written.
    """

    static_site = True

    def __init__(
        self,
        page: str,
        plans: Callable[[str], Plan | None],
        *,
        base_url: str | None = None,
        epics: Collection[str] = (),
        board: bool = False,
        search: bool = False,
    ) -> None:
        self.page = page
        self._lookup = plans
        self.base_url = base_url
        self._epics = epics
        self._board = board
        self._search = search

    def to(self, target: str) -> str:
        """``target`` (a site path: ``plans/a.html``, ``plans/a/``, ``""`` for the home page)."""
        if self.base_url is not None:
            return self.base_url.rstrip("/") + "/" + _q(target)
        folder = posixpath.dirname(self.page)
        if target == "" or target.endswith("/"):
            rel = posixpath.relpath(target.rstrip("/") or ".", folder or ".")
            return "./" if rel == "." else _q(rel) + "/"
        return _q(posixpath.relpath(target, folder or "."))

    def home(self) -> str:
        """The catalog."""
        return self.to("")

    def catalog_filter(self, **query: str) -> str | None:
        """No filtered catalog pages in the static site (search filters by status and label)."""
        return None

    def plan(self, plan_id: str) -> str:
        """A plan's page."""
        plan = self._lookup(plan_id)
        if plan is None:
            return self.to(f"plans/{plan_id}.html")
        return self.to(plan_site_url(plan))

    def plan_json(self, plan_id: str) -> str:
        """A plan's JSON twin."""
        return self.to(f"plans/{plan_id}.json")

    def progress(self, plan_id: str) -> str:
        """A plan's burn-up chart."""
        return self.to(f"progress/{plan_id}.svg")

    def epic(self, ref: str) -> str | None:
        """An epic's page, or None when the site has none (no tracker, or unknown epic)."""
        return self.to(epic_site_file(ref)) if ref in self._epics else None

    def epic_json(self, ref: str) -> str:
        """An epic's JSON twin."""
        return self.to(epic_site_file(ref, "json"))

    def board(self) -> str | None:
        """The board, when the tracker was there to draw it."""
        return self.to("board.html") if self._board else None

    def api(self) -> str | None:
        """The catalog's JSON twin stands in for the API."""
        return self.to("plans.json")

    def search(self) -> str | None:
        """The search page, when it was built."""
        return self.to("search.html") if self._search else None

    def static(self, name: str) -> str:
        """secplan's own assets, copied to ``static/``."""
        return self.to(f"static/{name}")
