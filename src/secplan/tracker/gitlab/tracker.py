"""``GitLabTracker``: the :class:`~secplan.tracker.base.Tracker` protocol on a GitLab instance.

Every object secplan creates carries the label ``secplan::managed``, so finding secplan's own
issues is one listing per project filtered server-side by that label, post-filtered by the
marker text (GitLab's ``search`` is tokenised and cannot match a marker exactly).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from secplan.errors import ConflictError, ForbiddenError, NotFoundError, TrackerError, UsageError
from secplan.refs import parse_epic_ref
from secplan.tracker.base import (
    AccessProblem,
    Capabilities,
    EpicMode,
    EpicUpdate,
    IssueUpdate,
    TrackedEpic,
    TrackedIssue,
    Tracker,
)
from secplan.tracker.gitlab.access import check_access
from secplan.tracker.gitlab.client import GitLabClient, encode_path
from secplan.tracker.gitlab.convert import issue_from_rest
from secplan.tracker.gitlab.epics import (
    EPIC_LABEL,
    MANAGED_LABEL,
    EpicStrategy,
    RestEpics,
    TrackingIssueEpics,
    WorkItemEpics,
)
from secplan.tracker.gitlab.errors import CONFIDENTIAL_HINT, TokenRejectedError
from secplan.tracker.gitlab.ids import IdCache, MemoryIdCache
from secplan.tracker.gitlab.labels import LabelRegistry
from secplan.tracker.gitlab.milestones import MilestoneMethods
from secplan.tracker.gitlab.notes import NoteAndLinkMethods
from secplan.tracker.gitlab.paths import issue_parts, issue_path
from secplan.tracker.gitlab.promote import promote_issue

_MARKER = re.compile(r"<!-- secplan:plan=\S+ (?:item=\S+|kind=epic) -->")


def normalise_url(url: str) -> str:
    """The instance URL as secplan names it: scheme and host lower-case, no trailing slash."""
    url = url.strip().rstrip("/")
    m = re.match(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/]+)(?P<rest>.*)$", url)
    if m is None:
        raise UsageError(f"gitlab_url {url!r} is not a URL such as https://gitlab.example.com")
    return f"{m['scheme'].lower()}://{m['host'].lower()}{m['rest']}"


class GitLabTracker(MilestoneMethods, NoteAndLinkMethods):
    """The Tracker protocol on GitLab. ``stats`` counts the API calls (``apply --stats``).

    ``id_cache`` keeps remote ids between calls (default: in memory); ``pace`` spaces writes
    below GitLab.com's limits; ``progress`` is called with a short text after each write.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        default_group: str | None,
        default_project: str | None,
        id_cache: IdCache | None = None,
        pace: bool = True,
        progress: Callable[[str], None] | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = normalise_url(url)
        self.identity = f"gitlab:{self.url}"
        if not token:
            raise UsageError("no GitLab token given")
        self.client = GitLabClient(
            self.url,
            token,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            pace=pace,
            sleep=sleep,
        )
        self.stats = self.client.stats
        self.default_group = default_group.strip("/") if default_group else None
        self.default_project = default_project.strip("/") if default_project else None
        self.ids: IdCache = id_cache if id_cache is not None else MemoryIdCache()
        self.progress = progress
        self.labels = LabelRegistry(self)
        #: epic ref (lower-case) -> confidential, as last read
        self.epic_confidential: dict[str, bool] = {}
        #: Free tier: tracking issue ref -> refs (lower-case) of the issues linked to it
        self.tracking_children: dict[str, set[str]] = {}
        self._tracking_loaded = False
        self._epics: EpicStrategy | None = None
        self._groups: dict[str, bool] = {}
        self._user: dict[str, Any] | None = None
        self._quiet = 0

    # -- identity, capabilities, preflight ---------------------------------------------------

    def _probe_group(self) -> str | None:
        if self.default_group:
            return self.default_group
        if self.default_project and "/" in self.default_project:
            return self.default_project.rsplit("/", 1)[0]
        return None

    @property
    def epics(self) -> EpicStrategy:
        """How epics are kept here (probed once, then cached in ``id_cache``)."""
        if self._epics is None:
            group = self._probe_group()
            mode = self.ids.get("epic_mode", group.lower()) if group else None
            if mode is None:
                mode = self._detect_mode(group) if group else "tracking_issue"
                # a group that does not exist (a typo) says nothing about the instance
                if group and self.is_group(group):
                    self.ids.put("epic_mode", group.lower(), mode)
            strategy: EpicStrategy
            if mode == "work_items":
                strategy = WorkItemEpics(self)
            elif mode == "rest":
                strategy = RestEpics(self)
            else:
                strategy = TrackingIssueEpics(self)
            self._epics = strategy
        return self._epics

    def _detect_mode(self, group: str) -> EpicMode:
        try:
            WorkItemEpics(self).type_id(group)
            return "work_items"
        except TokenRejectedError:
            raise
        except (NotFoundError, TrackerError):
            pass  # no Epic work item type (or no GraphQL for it): try REST epics
        try:
            self.client.get(f"groups/{encode_path(group)}/epics", {"per_page": 1}, what="epics")
            return "rest"
        except TokenRejectedError:
            raise
        except (ForbiddenError, NotFoundError):
            return "tracking_issue"

    @property
    def capabilities(self) -> Capabilities:
        """Epic mode from the probe; Free (tracking issues) has one assignee and plain links."""
        mode = self.epics.mode
        free = mode == "tracking_issue"
        return Capabilities(
            epics=mode,  # type: ignore[arg-type]
            multiple_assignees=not free,
            link_types=("relates_to",) if free else ("relates_to", "blocks", "is_blocked_by"),
            epic_milestones=False,
        )

    def current_user(self) -> dict[str, Any]:
        """The token's user (``GET /user``); a rejected token raises ForbiddenError."""
        if self._user is None:
            self._user = self.client.get("user", what="read the token's user")
        return self._user

    def is_group(self, path: str) -> bool:
        """Whether ``path`` is a group (projects directly under a user are not in one)."""
        key = path.lower()
        if key not in self._groups:
            cached = self.ids.get("group", key)
            if cached is None:
                data = self.client.get_or_none(f"groups/{encode_path(path)}", what=f"group {path}")
                if data is not None:
                    self.ids.put("group", key, str(data["id"]))
                self._groups[key] = data is not None
            else:
                self._groups[key] = True
        return self._groups[key]

    def check_access(self, projects: Iterable[str], groups: Iterable[str]) -> list[AccessProblem]:
        """Each project needs at least Reporter, each group at least Planner, the token the
        ``api`` scope (see :mod:`secplan.tracker.gitlab.access`). A rejected token raises."""
        return check_access(self, projects, groups)

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()

    def _progress(self, text: str) -> None:
        # one step per object a caller asked to change, not per request made for it
        if self.progress is not None and not self._quiet:
            self.progress(text)

    @contextlib.contextmanager
    def quiet_progress(self) -> Iterator[None]:
        """Calls made inside (a note before a close, the issue behind a tracking issue) do not
        count as steps of their own."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    # -- epics ---------------------------------------------------------------------------------

    def get_epic(self, ref: str) -> TrackedEpic | None:
        """The epic (or tracking issue) ``ref``, or None."""
        if parse_epic_ref(ref) is None:
            # only a tracking issue's ref is an issue ref
            return self.epics.get(ref) if isinstance(self.epics, TrackingIssueEpics) else None
        return self.epics.get(ref)

    def find_epics(self, group: str, marker: str) -> list[TrackedEpic]:
        """secplan's epics in ``group`` whose description contains ``marker``."""
        return self.epics.find(group.strip("/"), marker)

    def find_created_epic(self, group: str, title: str, description: str) -> TrackedEpic | None:
        """After a lost answer to an epic creation: the epic it made, if it did."""
        marker = _MARKER.search(description)
        for epic in self.epics.find(group, marker[0] if marker else description):
            if epic.title == title:
                return epic
        return None

    def create_epic(
        self,
        group: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        confidential: bool = True,
    ) -> TrackedEpic:
        """A new epic in ``group`` (labelled ``secplan::managed``)."""
        wanted = _with_managed(labels)
        with self.quiet_progress():
            epic = self.epics.create(group.strip("/"), title, description, wanted, confidential)
        self._progress(f"epic {epic.ref}")
        return epic

    def update_epic(self, ref: str, update: EpicUpdate) -> TrackedEpic:
        """Apply ``update`` to the epic ``ref`` (one write)."""
        if not update:
            found = self.get_epic(ref)
            if found is None:
                raise NotFoundError(f"GitLab has no epic {ref}")
            return found
        with self.quiet_progress():
            epic = self.epics.update(ref, update)
        self._progress(f"epic {ref}")
        return epic

    def list_epics(self, group: str | None = None) -> list[TrackedEpic]:
        """Every epic of ``group`` (default group)."""
        target = (group or self.default_group or "").strip("/")
        if not target:
            raise UsageError("no group given and no default `group` configured")
        return self.epics.list_all(target)

    # -- users ----------------------------------------------------------------------------

    def _user_ids(self, usernames: list[str]) -> list[int]:
        names = [u.lstrip("@") for u in usernames if u and u.strip()]
        if names and not self.capabilities.multiple_assignees:
            names = names[:1]  # GitLab Free keeps one assignee
        ids = []
        for name in names:
            cached = self.ids.get("user", name.lower())
            if cached is None:
                found = [
                    u
                    for u in self.client.get("users", {"username": name}, what=f"user {name}") or []
                    if str(u.get("username", "")).lower() == name.lower()
                ]
                if not found:
                    raise NotFoundError(f"GitLab has no user {name!r}")
                cached = str(found[0]["id"])
                self.ids.put("user", name.lower(), cached)
            ids.append(int(cached))
        return ids

    # -- issues ----------------------------------------------------------------------------

    def _issue(self, data: dict[str, Any]) -> TrackedIssue:
        if isinstance(self.epics, TrackingIssueEpics):
            self._load_tracking()
            ref = (data.get("references") or {}).get("full", "").lower()
            epic = next((t for t, kids in self.tracking_children.items() if ref in kids), "")
            issue = issue_from_rest(data)
            issue.epic = epic or None
            return issue
        return issue_from_rest(data)

    def _load_tracking(self) -> None:
        """Free tier: which issues are linked to which tracking issue (one read per plan)."""
        if self._tracking_loaded or not self.default_project:
            return
        self._tracking_loaded = True
        strategy = self.epics
        assert isinstance(strategy, TrackingIssueEpics)
        for tracking in strategy._tracking():
            kids = self.tracking_kids(tracking.ref)
            for link in self.client.pages(
                f"{issue_path(tracking.ref)}/links", {}, what=f"links of {tracking.ref}"
            ):
                full = (link.get("references") or {}).get("full")
                if full:
                    kids.add(full.lower())

    def tracking_kids(self, tracking_ref: str) -> set[str]:
        """Free tier: the (lower-case) refs linked to the tracking issue ``tracking_ref``."""
        for key, kids in self.tracking_children.items():
            if key.lower() == tracking_ref.lower():
                return kids
        return self.tracking_children.setdefault(tracking_ref, set())

    def get_issue(self, ref: str) -> TrackedIssue | None:
        """The issue ``ref``, or None."""
        data = self.client.get_or_none(issue_path(ref), what=f"issue {ref}")
        return self._issue(data) if data else None

    def get_issues(self, refs: Iterable[str]) -> dict[str, TrackedIssue]:
        """Many issues, 100 iids per request per project; missing ones left out."""
        wanted: dict[str, dict[int, list[str]]] = {}
        for text in refs:
            project, iid = issue_parts(text)
            wanted.setdefault(project.lower(), {}).setdefault(iid, []).append(text)
        found: dict[str, TrackedIssue] = {}
        for by_iid in wanted.values():
            project = issue_parts(next(iter(by_iid.values()))[0])[0]
            iids = sorted(by_iid)
            for start in range(0, len(iids), 100):
                params = {"iids[]": iids[start : start + 100], "state": "all", "scope": "all"}
                try:
                    rows = self.client.get(
                        f"projects/{encode_path(project)}/issues",
                        params,
                        what=f"issues of {project}",
                    )
                except NotFoundError:
                    break  # a project GitLab does not have: its refs are missing
                for data in rows or []:
                    issue = self._issue(data)
                    for text in by_iid.get(issue.iid, []):
                        found[text] = issue
        return found

    def find_issues(self, project: str, marker: str) -> list[TrackedIssue]:
        """secplan's issues in ``project`` whose description contains ``marker``: one listing
        by the managed label (tracking issues left out: they stand in for epics)."""
        out = []
        for data in self._managed(project.strip("/")):
            if marker in (data.get("description") or "") and EPIC_LABEL not in (
                data.get("labels") or []
            ):
                out.append(self._issue(data))
        return out

    def _managed(self, project: str) -> Iterator[dict[str, Any]]:
        return self.client.pages(
            f"projects/{encode_path(project)}/issues",
            {"labels": MANAGED_LABEL, "state": "all", "scope": "all"},
            what=f"issues of {project}",
        )

    def _find_created_issue(self, project: str, title: str, description: str) -> Any:
        marker = _MARKER.search(description)
        needle = marker[0] if marker else description
        for data in self._managed(project):
            if data.get("title") == title and needle in (data.get("description") or ""):
                return data
        return None

    def _check_confidential(self, epic: str | None, confidential: bool) -> None:
        """A non-confidential issue cannot go under a confidential epic (GitLab refuses)."""
        if not epic or confidential:
            return
        known = self.epic_confidential.get(epic.lower())
        if known is None:
            found = self.get_epic(epic)
            known = bool(found and found.confidential)
        if known:
            raise ConflictError(
                f"a non-confidential issue cannot go under the confidential epic {epic}",
                hint=CONFIDENTIAL_HINT,
            )

    def create_issue(
        self,
        project: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        milestone: str | None = None,
        assignees: list[str] | None = None,
        confidential: bool = True,
        epic: str | None = None,
    ) -> TrackedIssue:
        """A new issue (confidential by default, labelled ``secplan::managed``); under
        ``epic`` when given. A lost answer is followed by a marker search, never a blind
        second POST."""
        project = project.strip("/")
        self._check_confidential(epic, confidential)
        wanted = _with_managed(labels)
        self.labels.ensure(project, "project", wanted)
        body: dict[str, Any] = {
            "title": title,
            "description": description,
            "labels": ",".join(wanted),
            "confidential": confidential,
        }
        if milestone:
            body["milestone_id"] = self._milestone_id(project, milestone)
        if assignees:
            body["assignee_ids"] = self._user_ids(assignees)
        body.update(self.epics.issue_create_params(epic))
        _s, data, _h = self.client.request(
            "POST",
            f"projects/{encode_path(project)}/issues",
            json=body,
            what=f"create an issue in {project}",
            find_existing=lambda: self._find_created_issue(project, title, description),
            pace="create",
        )
        if epic and "epic_id" not in body:
            self.epics.set_issue_epic(data, epic, None)
        issue = self._issue(data)
        if epic:
            issue.epic = epic
        self._progress(f"issue {issue.ref}")
        return issue

    def update_issue(self, ref: str, update: IssueUpdate) -> TrackedIssue:
        """Apply ``update``: one PUT for the fields (labels by ``add_labels``/``remove_labels``,
        which GitLab applies atomically), plus one call when the epic changes."""
        changes = update.changed()
        epic_change = "epic" in changes
        body: dict[str, Any] = {}
        project, _iid = issue_parts(ref)
        for key in ("title", "description", "confidential", "state_event"):
            if key in changes:
                body[key] = changes[key]
        if update.add_labels:
            self.labels.ensure(project, "project", update.add_labels)
            body["add_labels"] = ",".join(update.add_labels)
        if update.remove_labels:
            body["remove_labels"] = ",".join(update.remove_labels)
        if "milestone" in changes:
            ms = changes["milestone"]
            body["milestone_id"] = self._milestone_id(project, ms) if ms else 0
        if "assignees" in changes:
            body["assignee_ids"] = self._user_ids(list(changes["assignees"] or []))
        data: Any = None
        old_epic: str | None = None
        if epic_change:
            current = self.get_issue(ref)
            if current is None:
                raise NotFoundError(f"GitLab has no issue {ref}")
            old_epic = current.epic
            confidential = changes.get("confidential", current.confidential)
            self._check_confidential(changes["epic"], bool(confidential))
        if body:
            _s, data, _h = self.client.request(
                "PUT", issue_path(ref), json=body, what=f"update issue {ref}", safe=True
            )
        if epic_change and changes["epic"] != old_epic:
            if data is None:
                data = self.client.get(issue_path(ref), what=f"issue {ref}")
            self.epics.set_issue_epic(data, changes["epic"], old_epic)
        if data is None:
            found = self.get_issue(ref)
            if found is None:
                raise NotFoundError(f"GitLab has no issue {ref}")
            return found
        issue = self._issue(data)
        if epic_change:
            issue.epic = changes["epic"]
        self._progress(f"issue {ref}")
        return issue

    def close_issue(self, ref: str, note: str | None = None) -> TrackedIssue:
        """Close the issue (a no-op if closed), leaving ``note`` first."""
        if note:
            with self.quiet_progress():
                self.add_note(ref, note)
        return self.update_issue(ref, IssueUpdate(state_event="close"))

    def reopen_issue(self, ref: str) -> TrackedIssue:
        """Reopen the issue (a no-op if open)."""
        return self.update_issue(ref, IssueUpdate(state_event="reopen"))

    def iter_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> Iterator[TrackedIssue]:
        """Issues filtered like GitLab's list (``state`` opened, closed or all), 100 a page."""
        if state not in ("opened", "closed", "all"):
            raise UsageError(f"state must be opened, closed or all, not {state!r}")
        params: dict[str, Any] = {"state": state, "scope": "all"}
        if labels:
            params["labels"] = ",".join(labels)
        if milestone:
            params["milestone"] = milestone
        if project:
            path = f"projects/{encode_path(project.strip('/'))}/issues"
        elif self.default_group:
            path = f"groups/{encode_path(self.default_group)}/issues"
        elif self.default_project:
            path = f"projects/{encode_path(self.default_project)}/issues"
        else:
            raise UsageError("no project given and no default `tracker` or `group` configured")
        for data in self.client.pages(path, params, what="list issues"):
            if EPIC_LABEL in (data.get("labels") or []):
                continue
            issue = self._issue(data)
            if epic is None or (issue.epic or "").lower() == epic.lower():
                yield issue

    # -- promotion -----------------------------------------------------------------------------

    def promote_issue(self, ref: str) -> TrackedEpic:
        """Promote the issue to an epic in its project's group with GitLab's quick action
        (see :mod:`secplan.tracker.gitlab.promote`); on the Free tier the issue itself becomes
        the tracking issue standing in for an epic."""
        return promote_issue(self, ref)


def _with_managed(labels: list[str] | None) -> list[str]:
    out = [label for label in dict.fromkeys(labels or []) if label]
    if MANAGED_LABEL not in out:
        out.append(MANAGED_LABEL)
    return out


def _conforms(tracker: GitLabTracker) -> Tracker:
    """Never called: mypy checks here that GitLabTracker implements the Tracker protocol."""
    return tracker


__all__ = ["GitLabTracker", "normalise_url"]
