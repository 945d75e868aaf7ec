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


def issue_path(ref: str) -> str | None:
    """An issue ref's path below ``issues/``: ``group/project#12`` -> ``group/project/12``."""
    project, sep, iid = ref.rpartition("#")
    if not sep or not project or not iid.isdigit():
        return None
    return f"{project}/{iid}"


def issue_site_file(ref: str, ext: str = "html") -> str:
    """An issue's page (or JSON twin) in the static site: ``issues/group/project/12.html``."""
    return f"issues/{issue_path(ref) or ref}.{ext}"


def milestone_anchor(title: str) -> str:
    """The roadmap's id for a milestone title (``ms-`` and the title's letters and digits)."""
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    return "ms-" + ("-".join(filter(None, slug.split("-"))) or "untitled")


#: Which tracker refs have pages: ``kind(ref)`` -> "epic" | "issue" | None (not in the tracker),
#: and whether a tracker was read at all (without one, a ref is not "missing", only unknown).
RefKinds = Callable[[str], str | None]


def _q(path: str) -> str:
    return quote(path, safe="/")


class ServerLinks:
    """Addresses of ``secplan serve``: absolute paths, filters as query strings."""

    static_site = False

    def __init__(
        self,
        plan_lookup: Callable[[str], Plan | None],
        ref_kind: RefKinds | None = None,
    ) -> None:
        self._lookup = plan_lookup
        self._kind = ref_kind
        #: a tracker was read: a ref it does not have is "not in the tracker"
        self.tracker = ref_kind is not None

    def ref(self, ref: str | None) -> str | None:
        """The page of a tracker ref: an epic (``group&16``), an issue (``group/p#12``) or a
        milestone (``%Title``, on the roadmap); None when the tracker does not have it."""
        if not ref:
            return None
        if ref.startswith("%"):
            return "/roadmap#" + milestone_anchor(ref[1:].strip('"'))
        kind = self._kind(ref) if self._kind is not None else None
        if kind == "epic":
            return self.epic(ref)
        if kind == "issue":
            return self.issue(ref)
        return None

    def issue(self, ref: str) -> str:
        """An issue's page: ``/issues/group/project/12``."""
        return "/issues/" + _q(issue_path(ref) or quote(ref, safe=""))

    def issue_json(self, ref: str) -> str:
        """An issue's JSON twin."""
        return self.issue(ref) + ".json"

    def epics(self) -> str | None:
        """The epics index."""
        return "/epics/"

    def epics_json(self) -> str:
        """The epics index's JSON twin."""
        return "/epics.json"

    def roadmap(self, plan: str | None = None) -> str | None:
        """The roadmap (of one plan when ``plan`` is given)."""
        from urllib.parse import urlencode

        return "/roadmap" + ("?" + urlencode({"plan": plan}) if plan else "")

    def roadmap_json(self) -> str:
        """The roadmap's JSON twin."""
        return "/roadmap.json"

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
        """The API documentation page (its document is ``/openapi.json``)."""
        return "/api"

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
        issues: Collection[str] = (),
        board: bool = False,
        search: bool = False,
    ) -> None:
        self.page = page
        self._lookup = plans
        self.base_url = base_url
        self._epics = epics
        self._issues = issues
        self._board = board
        self._search = search
        #: the tracker was read (its pages were written)
        self.tracker = board

    def ref(self, ref: str | None) -> str | None:
        """The page of a tracker ref (epic, issue, ``%milestone`` on the roadmap), or None."""
        if not ref:
            return None
        if ref.startswith("%"):
            if not self._board:
                return None
            return self.to("roadmap.html") + "#" + milestone_anchor(ref[1:].strip('"'))
        if ref in self._epics:
            return self.epic(ref)
        if ref in self._issues:
            return self.issue(ref)
        return None

    def issue(self, ref: str) -> str:
        """An issue's page."""
        return self.to(issue_site_file(ref))

    def issue_json(self, ref: str) -> str:
        """An issue's JSON twin."""
        return self.to(issue_site_file(ref, "json"))

    def epics(self) -> str | None:
        """The epics index, when the tracker was there."""
        return self.to("epics/index.html") if self._board else None

    def epics_json(self) -> str:
        """The epics index's JSON twin."""
        return self.to("epics.json")

    def roadmap(self, plan: str | None = None) -> str | None:
        """The roadmap (one page in the site; a plan's milestones are under its anchor)."""
        if not self._board:
            return None
        return self.to("roadmap.html") + (f"#plan-{_q(plan)}" if plan else "")

    def roadmap_json(self) -> str:
        """The roadmap's JSON twin."""
        return self.to("roadmap.json")

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
