"""The three ways a plan's epic lives in GitLab, one class each (``Capabilities.epics``):

- ``work_items``: an Epic work item (GraphQL ``workItemCreate``; an issue goes under it with
  ``workItemUpdate`` and ``hierarchyWidget.parentId``). GitLab deprecated the REST epics API.
- ``rest``: the REST epics API (``/groups/:id/epics``), where the instance has no Epic work item
  type; an issue goes under it with ``epic_id``.
- ``tracking_issue``: the Free tier has no epics, so a confidential issue labelled
  ``secplan::epic`` in the default project stands in; the plan's issues are linked to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from secplan.errors import ForbiddenError, NotFoundError, UsageError
from secplan.refs import parse_epic_ref, parse_issue_ref
from secplan.tracker.base import EpicUpdate, TrackedEpic, TrackedIssue
from secplan.tracker.gitlab import graphql as gq
from secplan.tracker.gitlab.client import encode_path
from secplan.tracker.gitlab.convert import (
    epic_from_rest,
    epic_from_tracking_issue,
    epic_from_work_item,
    issue_from_rest,
)

if TYPE_CHECKING:
    from secplan.tracker.gitlab.tracker import GitLabTracker

MANAGED_LABEL = "secplan::managed"
EPIC_LABEL = "secplan::epic"


def work_item_gid(numeric_id: int | str) -> str:
    """The global id of a work item (an issue's REST ``id`` is its work item id)."""
    return f"gid://gitlab/WorkItem/{numeric_id}"


def _epic_ref(ref: str) -> tuple[str, int]:
    parsed = parse_epic_ref(ref)
    if parsed is None:
        raise UsageError(f"{ref!r} is not an epic reference (group&iid)")
    return parsed.path, parsed.iid


class WorkItemEpics:
    """Epics as GraphQL work items."""

    mode = "work_items"

    def __init__(self, t: GitLabTracker) -> None:
        self.t = t

    def _remember(self, node: dict[str, Any]) -> TrackedEpic:
        epic = epic_from_work_item(node)
        self.t.ids.put("epic_gid", epic.ref.lower(), str(node["id"]))
        self.t.epic_confidential[epic.ref.lower()] = epic.confidential
        return epic

    def gid(self, ref: str) -> str:
        """The global id of the epic ``ref`` (cached)."""
        cached = self.t.ids.get("epic_gid", ref.lower())
        if cached:
            return cached
        if self.get(ref) is None:
            raise NotFoundError(f"GitLab has no epic {ref}")
        return self.t.ids.get("epic_gid", ref.lower()) or ""

    def type_id(self, group: str) -> str:
        found = self.t.ids.get("epic_type", group.lower())
        if found:
            return found
        data = self.t.client.graphql(
            gq.WORK_ITEM_TYPES, {"fullPath": group}, what=f"read work item types of {group}"
        )
        for node in ((data.get("namespace") or {}).get("workItemTypes") or {}).get("nodes") or []:
            if str(node.get("name", "")).lower() == "epic":
                self.t.ids.put("epic_type", group.lower(), node["id"])
                return str(node["id"])
        raise NotFoundError(f"group {group} has no Epic work item type")

    def get(self, ref: str) -> TrackedEpic | None:
        group, iid = _epic_ref(ref)
        data = self.t.client.graphql(
            gq.WORK_ITEM_BY_IID, {"fullPath": group, "iid": str(iid)}, what=f"read epic {ref}"
        )
        node = (data.get("namespace") or {}).get("workItem")
        if not node or str((node.get("workItemType") or {}).get("name", "")).lower() != "epic":
            return None
        return self._remember(node)

    def _list(self, group: str, labels: list[str] | None) -> list[TrackedEpic]:
        out: list[TrackedEpic] = []
        after: str | None = None
        while True:
            data = self.t.client.graphql(
                gq.EPICS_BY_LABEL,
                {"fullPath": group, "labels": labels, "after": after},
                what=f"list epics of {group}",
            )
            conn = (data.get("group") or {}).get("workItems") or {}
            out.extend(self._remember(n) for n in conn.get("nodes") or [])
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return out
            after = page.get("endCursor")

    def find(self, group: str, marker: str) -> list[TrackedEpic]:
        return [e for e in self._list(group, [MANAGED_LABEL]) if marker in e.description]

    def list_all(self, group: str) -> list[TrackedEpic]:
        return self._list(group, None)

    def create(
        self, group: str, title: str, description: str, labels: list[str], confidential: bool
    ) -> TrackedEpic:
        label_ids = self.t.labels.ids_for(group, "group", labels)
        data = self.t.client.graphql(
            gq.WORK_ITEM_CREATE,
            {
                "input": {
                    "namespacePath": group,
                    "workItemTypeId": self.type_id(group),
                    "title": title,
                    "confidential": confidential,
                    "descriptionWidget": {"description": description},
                    "labelsWidget": {"labelIds": label_ids},
                }
            },
            what=f"create an epic in {group}",
            mutation=True,
            pace="create",
            find_existing=lambda: self.t.find_created_epic(group, title, description),
        )
        if "__found__" in data:
            return data["__found__"]  # type: ignore[no-any-return]
        payload = gq.check_payload(data, "workItemCreate", f"create an epic in {group}")
        return self._remember(payload["workItem"])

    def update(self, ref: str, update: EpicUpdate) -> TrackedEpic:
        group, _iid = _epic_ref(ref)
        changes = update.changed()
        wi: dict[str, Any] = {"id": self.gid(ref)}
        if "title" in changes:
            wi["title"] = changes["title"]
        if "description" in changes:
            wi["descriptionWidget"] = {"description": changes["description"]}
        if "confidential" in changes:
            wi["confidential"] = bool(changes["confidential"])
        if "state_event" in changes:
            wi["stateEvent"] = "CLOSE" if changes["state_event"] == "close" else "REOPEN"
        if update.add_labels or update.remove_labels:
            wi["labelsWidget"] = {
                "addLabelIds": self.t.labels.ids_for(group, "group", update.add_labels),
                "removeLabelIds": self.t.labels.ids_for(
                    group, "group", update.remove_labels, create=False
                ),
            }
        data = self.t.client.graphql(
            gq.WORK_ITEM_UPDATE, {"input": wi}, what=f"update epic {ref}", mutation=True
        )
        payload = gq.check_payload(data, "workItemUpdate", f"update epic {ref}")
        return self._remember(payload["workItem"])

    def issue_create_params(self, epic: str | None) -> dict[str, Any]:
        """A new issue goes under its epic in the same request (one write, not two) when the
        instance still serves the epic's REST id (``epic_id``; GitLab keeps the legacy epic of
        every epic work item); otherwise :meth:`set_issue_epic` follows the creation."""
        if not epic:
            return {}
        legacy = self.t.ids.get("epic_id", epic.lower())
        if legacy is None:
            group, iid = _epic_ref(epic)
            try:
                data = self.t.client.get(
                    f"groups/{encode_path(group)}/epics/{iid}", what=f"REST id of epic {epic}"
                )
            except (NotFoundError, ForbiddenError):
                data = None
            legacy = str(data["id"]) if isinstance(data, dict) and data.get("id") else ""
            self.t.ids.put("epic_id", epic.lower(), legacy)
        return {"epic_id": int(legacy)} if legacy else {}

    def set_issue_epic(self, issue: dict[str, Any], epic: str | None, old: str | None) -> None:
        """Put the issue under ``epic`` (None: take it out) with the hierarchy widget."""
        ref = (issue.get("references") or {}).get("full", "")
        data = self.t.client.graphql(
            gq.WORK_ITEM_UPDATE,
            {
                "input": {
                    "id": work_item_gid(issue["id"]),
                    "hierarchyWidget": {"parentId": self.gid(epic) if epic else None},
                }
            },
            what=f"put {ref} under epic {epic}" if epic else f"take {ref} out of its epic",
            mutation=True,
        )
        gq.check_payload(data, "workItemUpdate", f"put {ref} under epic {epic}")


class RestEpics:
    """Epics through the REST epics API."""

    mode = "rest"

    def __init__(self, t: GitLabTracker) -> None:
        self.t = t

    def _remember(self, data: dict[str, Any]) -> TrackedEpic:
        epic = epic_from_rest(data)
        self.t.ids.put("epic_id", epic.ref.lower(), str(data["id"]))
        self.t.epic_confidential[epic.ref.lower()] = epic.confidential
        return epic

    def get(self, ref: str) -> TrackedEpic | None:
        group, iid = _epic_ref(ref)
        data = self.t.client.get_or_none(
            f"groups/{encode_path(group)}/epics/{iid}", what=f"epic {ref}"
        )
        return self._remember(data) if data else None

    def find(self, group: str, marker: str) -> list[TrackedEpic]:
        return [e for e in self._list(group, MANAGED_LABEL) if marker in e.description]

    def _list(self, group: str, labels: str | None) -> list[TrackedEpic]:
        params = {"labels": labels} if labels else {}
        return [
            self._remember(d)
            for d in self.t.client.pages(
                f"groups/{encode_path(group)}/epics", params, what=f"epics of {group}"
            )
        ]

    def list_all(self, group: str) -> list[TrackedEpic]:
        return self._list(group, None)

    def create(
        self, group: str, title: str, description: str, labels: list[str], confidential: bool
    ) -> TrackedEpic:
        self.t.labels.ensure(group, "group", labels)
        _s, data, _h = self.t.client.request(
            "POST",
            f"groups/{encode_path(group)}/epics",
            json={
                "title": title,
                "description": description,
                "labels": ",".join(labels),
                "confidential": confidential,
            },
            what=f"create an epic in {group}",
            role="Planner",
            pace="create",
            find_existing=lambda: self.t.find_created_epic(group, title, description),
        )
        return data if isinstance(data, TrackedEpic) else self._remember(data)

    def update(self, ref: str, update: EpicUpdate) -> TrackedEpic:
        group, iid = _epic_ref(ref)
        changes = update.changed()
        self.t.labels.ensure(group, "group", update.add_labels)
        body: dict[str, Any] = {k: v for k, v in changes.items() if k not in _LABEL_KEYS}
        if update.add_labels:
            body["add_labels"] = ",".join(update.add_labels)
        if update.remove_labels:
            body["remove_labels"] = ",".join(update.remove_labels)
        _s, data, _h = self.t.client.request(
            "PUT",
            f"groups/{encode_path(group)}/epics/{iid}",
            json=body,
            what=f"update epic {ref}",
            role="Planner",
            safe=True,
        )
        return self._remember(data)

    def epic_id(self, ref: str) -> int:
        cached = self.t.ids.get("epic_id", ref.lower())
        if not cached:
            if self.get(ref) is None:
                raise NotFoundError(f"GitLab has no epic {ref}")
            cached = self.t.ids.get("epic_id", ref.lower())
        return int(cached or 0)

    def issue_create_params(self, epic: str | None) -> dict[str, Any]:
        return {"epic_id": self.epic_id(epic)} if epic else {}

    def set_issue_epic(self, issue: dict[str, Any], epic: str | None, old: str | None) -> None:
        ref = (issue.get("references") or {}).get("full", "")
        project, _, iid = ref.rpartition("#")
        self.t.client.request(
            "PUT",
            f"projects/{encode_path(project)}/issues/{iid}",
            json={"epic_id": self.epic_id(epic) if epic else 0},
            what=f"put {ref} under epic {epic}" if epic else f"take {ref} out of its epic",
            safe=True,
        )


_LABEL_KEYS = ("add_labels", "remove_labels")


class TrackingIssueEpics:
    """Free tier: a confidential tracking issue in the default project stands in for the epic."""

    mode = "tracking_issue"

    def __init__(self, t: GitLabTracker) -> None:
        self.t = t

    def _project(self) -> str:
        if not self.t.default_project:
            raise UsageError(
                "this GitLab has no epics (Free tier): secplan needs a default project for the "
                "tracking issues that stand in for epics",
                hint='Set `tracker = "group/project"` in secplan.toml.',
            )
        return self.t.default_project

    def _as_epic(self, issue: TrackedIssue) -> TrackedEpic:
        group = issue.project.rsplit("/", 1)[0] if "/" in issue.project else issue.project
        self.t.epic_confidential[issue.ref.lower()] = issue.confidential
        return epic_from_tracking_issue(issue, group)

    def get(self, ref: str) -> TrackedEpic | None:
        if parse_issue_ref(ref) is None:
            return None
        issue = self.t.get_issue(ref)
        return self._as_epic(issue) if issue and EPIC_LABEL in issue.labels else None

    def _tracking(self) -> list[TrackedIssue]:
        return [
            issue_from_rest(d)
            for d in self.t.client.pages(
                f"projects/{encode_path(self._project())}/issues",
                {"labels": f"{MANAGED_LABEL},{EPIC_LABEL}", "state": "all", "scope": "all"},
                what=f"tracking issues of {self._project()}",
            )
        ]

    def find(self, group: str, marker: str) -> list[TrackedEpic]:
        return [self._as_epic(i) for i in self._tracking() if marker in i.description]

    def list_all(self, group: str) -> list[TrackedEpic]:
        return [self._as_epic(i) for i in self._tracking()]

    def create(
        self, group: str, title: str, description: str, labels: list[str], confidential: bool
    ) -> TrackedEpic:
        issue = self.t.create_issue(
            self._project(),
            title,
            description,
            labels=[*labels, EPIC_LABEL],
            confidential=confidential,
        )
        self.t.tracking_kids(issue.ref)
        return self._as_epic(issue)

    def update(self, ref: str, update: EpicUpdate) -> TrackedEpic:
        from secplan.tracker.base import IssueUpdate

        issue_update = IssueUpdate(**{k: getattr(update, k) for k in _EPIC_FIELDS})
        return self._as_epic(self.t.update_issue(ref, issue_update))

    def issue_create_params(self, epic: str | None) -> dict[str, Any]:
        return {}

    def set_issue_epic(self, issue: dict[str, Any], epic: str | None, old: str | None) -> None:
        ref = (issue.get("references") or {}).get("full", "")
        if old:
            self.t.unlink_issues(ref, old)
        if epic:
            self.t.link_issues(ref, epic)
            self.t.tracking_kids(epic).add(ref.lower())


_EPIC_FIELDS = (
    "title",
    "description",
    "add_labels",
    "remove_labels",
    "confidential",
    "state_event",
)

EpicStrategy = WorkItemEpics | RestEpics | TrackingIssueEpics
