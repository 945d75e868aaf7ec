"""The data a fake GitLab holds, and its documented JSON shapes.

Shapes (field names, nesting, states) follow GitLab's REST API documentation:
- issues: https://docs.gitlab.com/api/issues/ ("Single project issue": ``references.full``,
  ``milestone``, ``assignees``, ``confidential``, the Premium ``epic`` object
  ``{id, iid, title, url: "/groups/<path>/-/epics/<iid>", group_id}``)
- epics: https://docs.gitlab.com/api/epics/ (``references.full`` = ``group&iid``, ``state``
  opened/closed)
- group milestones: https://docs.gitlab.com/api/group_milestones/ (``state`` active/closed)
- labels: https://docs.gitlab.com/api/group_labels/, notes: https://docs.gitlab.com/api/notes/,
  links: https://docs.gitlab.com/api/issue_links/ (each linked issue with ``issue_link_id`` and
  ``link_type``), state events: https://docs.gitlab.com/api/resource_state_events/
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TIERS = ("ultimate", "premium", "free")
#: GitLab's access levels (https://docs.gitlab.com/api/members/#roles)
GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Namespace:
    id: int
    full_path: str
    kind: str  # "group" | "project"

    @property
    def parent(self) -> str | None:
        return self.full_path.rsplit("/", 1)[0] if "/" in self.full_path else None


@dataclass
class Issue:
    id: int  # also its work item id
    iid: int
    project: Namespace
    title: str
    description: str
    labels: list[str]
    confidential: bool
    author: int
    milestone_id: int | None = None
    assignee_ids: list[int] = field(default_factory=list)
    state: str = "opened"
    epic_wi: int | None = None  # work item id of the parent epic
    created_at: str = field(default_factory=now)
    closed_at: str | None = None


@dataclass
class Epic:
    id: int  # the legacy epic id (REST ``epic_id``)
    wi_id: int  # its work item id (GraphQL ``gid://gitlab/WorkItem/<wi_id>``)
    iid: int
    group: Namespace
    title: str
    description: str
    labels: list[str]
    confidential: bool
    state: str = "opened"
    created_at: str = field(default_factory=now)
    closed_at: str | None = None


@dataclass
class Note:
    id: int
    body: str
    author: int
    system: bool = False
    created_at: str = field(default_factory=now)


class State:
    """Everything one fake instance holds. Guarded by the server's lock."""

    def __init__(self, tier: str, base_url: str = "") -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}")
        self.tier = tier
        self.base_url = base_url
        self._ids = itertools.count(1)
        self.users: dict[int, dict[str, Any]] = {}
        self.me = self.add_user("secbot")
        self.add_user("alice")
        self.add_user("bob")
        self.namespaces: dict[str, Namespace] = {}
        self.access: dict[str, int] = {}  # full path (lower) -> the token user's access level
        self.issues: list[Issue] = []
        self.epics: list[Epic] = []
        self.milestones: list[dict[str, Any]] = []
        self.labels: dict[str, dict[str, dict[str, Any]]] = {}  # owner path -> name -> label
        self.notes: dict[tuple[str, int], list[Note]] = {}  # ("issue"|"epic", id) -> notes
        self.links: list[dict[str, Any]] = []  # {id, source, target, link_type}
        self.state_events: list[dict[str, Any]] = []
        self.iid_counters: dict[int, int] = {}
        self.scopes = ["api"]

    def next_id(self) -> int:
        return next(self._ids)

    def next_iid(self, ns: Namespace) -> int:
        self.iid_counters[ns.id] = self.iid_counters.get(ns.id, 0) + 1
        return self.iid_counters[ns.id]

    def add_user(self, username: str) -> int:
        uid = len(self.users) + 1
        self.users[uid] = {
            "id": uid,
            "username": username,
            "name": username.title(),
            "state": "active",
            "is_admin": False,
        }
        return uid

    def add_group(self, path: str, access: int = OWNER) -> Namespace:
        parent = path.rsplit("/", 1)[0] if "/" in path else None
        if parent and parent.lower() not in self.namespaces:
            self.add_group(parent, access)
        ns = self.namespaces.get(path.lower())
        if ns is None:
            ns = Namespace(self.next_id(), path, "group")
            self.namespaces[path.lower()] = ns
            self.access.setdefault(path.lower(), access)
        return ns

    def add_project(self, path: str, access: int = DEVELOPER) -> Namespace:
        parent = path.rsplit("/", 1)[0]
        self.add_group(parent)
        ns = self.namespaces.get(path.lower())
        if ns is None:
            ns = Namespace(self.next_id(), path, "project")
            self.namespaces[path.lower()] = ns
            self.access[path.lower()] = access
        return ns

    def find(self, ident: str, kind: str) -> Namespace | None:
        """A namespace by numeric id or (case-insensitive) full path."""
        if ident.isdigit():
            return next(
                (n for n in self.namespaces.values() if n.id == int(ident) and n.kind == kind),
                None,
            )
        ns = self.namespaces.get(ident.lower())
        return ns if ns is not None and ns.kind == kind else None

    def level(self, path: str) -> int:
        """The token user's access level, inherited from the closest ancestor that has one."""
        parts = path.lower().split("/")
        best = 0
        for i in range(1, len(parts) + 1):
            best = max(best, self.access.get("/".join(parts[:i]), 0))
        return best

    def can_see(self, issue: Issue) -> bool:
        """Confidential issues: Reporter and up, or their author (docs: "Confidential issues")."""
        return (
            not issue.confidential
            or issue.author == self.me
            or self.level(issue.project.full_path) >= REPORTER
        )

    # -- shapes -------------------------------------------------------------------------

    def user_json(self, uid: int) -> dict[str, Any]:
        u = self.users[uid]
        return {
            "id": uid,
            "username": u["username"],
            "name": u["name"],
            "state": "active",
            "avatar_url": None,
            "web_url": f"{self.base_url}/{u['username']}",
        }

    def milestone(self, mid: int | None) -> dict[str, Any] | None:
        return next((m for m in self.milestones if m["id"] == mid), None)

    def epic_by_wi(self, wi_id: int | None) -> Epic | None:
        return next((e for e in self.epics if e.wi_id == wi_id), None)

    def issue_json(self, issue: Issue) -> dict[str, Any]:
        path = issue.project.full_path
        epic = self.epic_by_wi(issue.epic_wi)
        data: dict[str, Any] = {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": issue.project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": issue.created_at,
            "updated_at": issue.created_at,
            "closed_at": issue.closed_at,
            "labels": list(issue.labels),
            "milestone": self.milestone(issue.milestone_id),
            "assignees": [self.user_json(u) for u in issue.assignee_ids],
            "assignee": self.user_json(issue.assignee_ids[0]) if issue.assignee_ids else None,
            "author": self.user_json(issue.author),
            "confidential": issue.confidential,
            "issue_type": "issue",
            "type": "ISSUE",
            "web_url": f"{self.base_url}/{path}/-/issues/{issue.iid}",
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{path}#{issue.iid}",
            },
        }
        if self.tier != "free":
            data["epic_iid"] = epic.iid if epic else None
            data["epic"] = (
                {
                    "id": epic.id,
                    "iid": epic.iid,
                    "title": epic.title,
                    "url": f"/groups/{epic.group.full_path}/-/epics/{epic.iid}",
                    "group_id": epic.group.id,
                }
                if epic
                else None
            )
        return data

    def epic_json(self, epic: Epic) -> dict[str, Any]:
        path = epic.group.full_path
        return {
            "id": epic.id,
            "iid": epic.iid,
            "work_item_id": epic.wi_id,
            "group_id": epic.group.id,
            "title": epic.title,
            "description": epic.description,
            "state": epic.state,
            "confidential": epic.confidential,
            "labels": list(epic.labels),
            "web_url": f"{self.base_url}/groups/{path}/-/epics/{epic.iid}",
            "references": {
                "short": f"&{epic.iid}",
                "relative": f"&{epic.iid}",
                "full": f"{path}&{epic.iid}",
            },
            "created_at": epic.created_at,
            "closed_at": epic.closed_at,
        }

    def note_json(self, note: Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "body": note.body,
            "author": self.user_json(note.author),
            "system": note.system,
            "created_at": note.created_at,
            "updated_at": note.created_at,
            "noteable_type": "Issue",
        }
