"""A GitLab stand-in over real HTTP (stdlib ``ThreadingHTTPServer`` on 127.0.0.1, a random
port, in a thread): GitLab's documented REST shapes for what secplan's backend calls, a
validating GraphQL endpoint, tier switches, fault injection and a request log.

REST behaviour and where it is documented:
- auth: ``PRIVATE-TOKEN`` header; a wrong token is ``401 {"message": "401 Unauthorized"}``
  (https://docs.gitlab.com/api/rest/authentication/)
- pagination: ``per_page``/``page`` with ``X-Next-Page``, ``X-Page``, ``X-Per-Page``, ``X-Total``
  (https://docs.gitlab.com/api/rest/#pagination)
- 429 with ``Retry-After`` and ``RateLimit-*`` headers (https://docs.gitlab.com/user/gitlab_com/#rate-limits-on-gitlabcom)
- a note made only of quick actions answers ``202 {"commands_changes": ..., "summary": [...]}``
  and keeps no note (https://docs.gitlab.com/api/notes/#create-new-issue-note; GitLab MR 173055)
- ``/promote`` closes the issue and notes "promoted to epic <ref>" on it (Premium; newer work-item
  issues take ``/promote_to Epic``, https://docs.gitlab.com/user/project/quick_actions/)
- a confidential epic refuses a non-confidential issue (ee/app/models/epic_issue.rb:
  "Cannot assign a confidential epic to a non-confidential issue. Make the issue confidential
  and try again")
- issue links: ``409 {"message": "Issue(s) already assigned"}`` for an existing link
  (https://docs.gitlab.com/api/issue_links/)
- merge requests, diff versions, diffs, discussions, notes and raw files: see
  :mod:`tests.gitlab_fake.merge_requests`
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.gitlab_fake.graphql_api import GraphQLApi
from tests.gitlab_fake.merge_requests import ROUTES as MR_ROUTES
from tests.gitlab_fake.merge_requests import MergeRequests, RawText
from tests.gitlab_fake.mr_notes import mr_note_routes
from tests.gitlab_fake.state import (
    PLANNER,
    REPORTER,
    Epic,
    Issue,
    Namespace,
    Note,
    State,
    now,
)


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str  # after /api/v4/ (or "graphql"), path segments decoded
    query: dict[str, list[str]]
    body: Any


@dataclass
class Fault:
    """Answer matching requests with ``status`` (and ``headers``/``body``) instead of handling
    them, or handle them and then hold the answer back ``delay`` seconds."""

    method: str
    pattern: re.Pattern[str]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    delay: float = 0.0


class HttpError(Exception):
    def __init__(self, status: int, message: Any, **extra: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = {"message": message, **extra}


class FakeGitLab:
    """The running stand-in. ``url`` is the instance URL, ``token`` the valid token,
    ``requests`` every request received (see :meth:`count`), ``state`` the data."""

    def __init__(self, tier: str = "ultimate") -> None:
        self.token = "glpat-fAkE0t0kenSecret123"
        self.state = State(tier)
        self.requests: list[Request] = []
        self.graphql_documents: list[str] = []
        self.faults: list[Fault] = []
        self._mutation_errors: dict[str, list[tuple[list[str], list[int]]]] = {}
        #: quick actions this instance accepts for promotion
        self.promote_commands = ("/promote", "/promote_to Epic")
        self.lock = threading.RLock()
        self.graphql = GraphQLApi(self)
        #: merge requests, commits and their files (``fake.merge_requests.open(...)``)
        self.merge_requests = MergeRequests(self)
        self.state.add_project("sec/planning")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.state.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- test controls ------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` requests matching answer ``status`` (not handled)."""
        self.faults.append(
            Fault(
                method,
                re.compile(path_regex),
                status,
                headers or {},
                body if body is not None else {"message": f"{status} fault"},
                times,
            )
        )

    def delay(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` requests matching are handled, but answered ``seconds`` late."""
        self.faults.append(Fault(method, re.compile(path_regex), None, times=times, delay=seconds))

    def mutation_errors(self, mutation: str, errors: list[str], *, times: int = 1) -> None:
        """The next ``times`` calls of ``mutation`` answer with ``errors`` in the payload."""
        self._mutation_errors.setdefault(mutation, []).append((errors, [times]))

    def take_mutation_errors(self, mutation: str) -> list[str] | None:
        queue = self._mutation_errors.get(mutation) or []
        while queue:
            errors, left = queue[0]
            if left[0] > 0:
                left[0] -= 1
                return errors
            queue.pop(0)
        return None

    def count(self, method: str | None = None, path_regex: str | None = None) -> int:
        """How many requests matched (all when both are None)."""
        rx = re.compile(path_regex) if path_regex else None
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (rx is None or rx.search(r.path))
        )

    def issues_in(self, project: str) -> list[Issue]:
        """The issues of ``project`` (for assertions)."""
        return [i for i in self.state.issues if i.project.full_path.lower() == project.lower()]

    # -- shared helpers (also used by the GraphQL resolvers) ------------------------------

    def label(self, owner: str, name: str) -> dict[str, Any] | None:
        """The label ``name`` visible at ``owner`` (its own or an ancestor group's)."""
        parts = owner.lower().split("/")
        for i in range(len(parts), 0, -1):
            found = self.state.labels.get("/".join(parts[:i]), {}).get(name)
            if found:
                return found
        return None

    def label_name(self, label_id: int) -> str | None:
        for labels in self.state.labels.values():
            for label in labels.values():
                if label["id"] == label_id:
                    return str(label["name"])
        return None

    def use_labels(self, owner: Namespace, names: list[str]) -> None:
        """As GitLab does: an unknown label on an issue becomes a new project label."""
        for name in names:
            if self.label(owner.full_path, name) is None:
                self.state.labels.setdefault(owner.full_path.lower(), {})[name] = {
                    "id": self.state.next_id(),
                    "name": name,
                    "color": "#428BCA",
                    "description": None,
                    "is_project_label": owner.kind == "project",
                }

    def new_epic(
        self, group: Namespace, title: str, description: str, labels: list[str], confidential: bool
    ) -> Epic:
        epic = Epic(
            self.state.next_id(),
            self.state.next_id(),
            self.state.next_iid(group),
            group,
            title,
            description,
            labels,
            confidential,
        )
        self.use_labels(group, labels)
        self.state.epics.append(epic)
        return epic

    # -- dispatch -----------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        if parts.path == "/api/graphql":
            path = "graphql"
        elif parts.path.startswith("/api/v4/"):
            path = "/".join(unquote(seg) for seg in parts.path[len("/api/v4/") :].split("/"))
        else:
            return 404, {"message": "404 Not Found"}, {}
        with self.lock:
            self.requests.append(Request(method, path, query, body))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.times > 0 and f.method == method and f.pattern.search(path)
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
                if fault.status is not None:
                    return fault.status, fault.body, dict(fault.headers)
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        with self.lock:
            try:
                if path == "graphql":
                    status, out, extra = 200, self.graphql.execute(body or {}), {}
                else:
                    status, out, extra = self.route(method, path, query, body or {})
            except HttpError as exc:
                status, out, extra = exc.status, exc.body, {}
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        return status, out, extra

    def route(
        self, method: str, path: str, q: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        for verb, rx, name in _MR_ROUTES:
            m = rx.fullmatch(path)
            if m and verb == method:
                return self._answer(
                    method, getattr(self.merge_requests, name)(q, body, *m.groups()), q
                )
        for verb, rx, fn in _ROUTES:
            m = rx.fullmatch(path)
            if m and verb == method:
                result = fn(self, q, body, *m.groups())
                if isinstance(result, tuple):
                    return result
                if isinstance(result, list):
                    return self._page(result, q)
                return (201 if method == "POST" else 200), result, {}
        raise HttpError(404, "404 Not Found")

    def _answer(
        self, method: str, result: Any, q: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        if isinstance(result, tuple):
            return result
        if isinstance(result, list):
            return self._page(result, q)
        return (201 if method == "POST" else 200), result, {}

    def _page(self, rows: list[Any], q: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        per = min(int(_one(q, "per_page") or 20), 100)
        page = int(_one(q, "page") or 1)
        chunk = rows[(page - 1) * per : page * per]
        more = page * per < len(rows)
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per),
            "X-Total": str(len(rows)),
            "X-Next-Page": str(page + 1) if more else "",
        }
        return 200, chunk, headers

    # -- REST handlers ----------------------------------------------------------------------

    def _project(self, ident: str) -> Namespace:
        ns = self.state.find(ident, "project")
        if ns is None:
            raise HttpError(404, "404 Project Not Found")
        return ns

    def _group(self, ident: str) -> Namespace:
        ns = self.state.find(ident, "group")
        if ns is None:
            raise HttpError(404, "404 Group Not Found")
        return ns

    def _need(self, ns: Namespace, level: int) -> None:
        if self.state.level(ns.full_path) < level:
            raise HttpError(403, "403 Forbidden")

    def _write_scope(self) -> None:
        if "api" not in self.state.scopes:
            raise HttpError(
                403,
                None,
                error="insufficient_scope",
                scope="api",
                error_description="The request requires higher privileges than "
                "provided by the access token.",
            )

    def _issue(self, project: str, iid: str) -> Issue:
        ns = self._project(project)
        issue = next((i for i in self.state.issues if i.project is ns and i.iid == int(iid)), None)
        if issue is None or not self.state.can_see(issue):
            raise HttpError(404, "404 Not found")
        return issue

    def _epic(self, group: str, iid: str) -> Epic:
        self._epics_available()
        ns = self._group(group)
        epic = next((e for e in self.state.epics if e.group is ns and e.iid == int(iid)), None)
        if epic is None:
            raise HttpError(404, "404 Not found")
        return epic

    def _epics_available(self) -> None:
        if self.state.tier == "free":
            raise HttpError(403, "403 Forbidden")

    def get_user(self, q: Any, b: Any) -> Any:
        return dict(self.state.users[self.state.me])

    def get_token_self(self, q: Any, b: Any) -> Any:
        return {
            "id": 1,
            "name": "secplan",
            "active": True,
            "revoked": False,
            "scopes": list(self.state.scopes),
            "user_id": self.state.me,
        }

    def get_users(self, q: Any, b: Any) -> Any:
        name = (_one(q, "username") or "").lower()
        return [
            self.state.user_json(u)
            for u, d in self.state.users.items()
            if d["username"].lower() == name
        ]

    def get_project(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._project(ident)
        return {
            "id": ns.id,
            "path_with_namespace": ns.full_path,
            "name": ns.full_path.rsplit("/", 1)[1],
            "namespace": {"full_path": ns.parent, "kind": "group"},
            "web_url": f"{self.url}/{ns.full_path}",
        }

    def get_group(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._group(ident)
        return {
            "id": ns.id,
            "full_path": ns.full_path,
            "name": ns.full_path.rsplit("/", 1)[-1],
            "web_url": f"{self.url}/groups/{ns.full_path}",
        }

    def get_member(self, q: Any, b: Any, kind: str, ident: str, uid: str) -> Any:
        ns = self._project(ident) if kind == "projects" else self._group(ident)
        level = self.state.level(ns.full_path)
        if not level or int(uid) != self.state.me:
            raise HttpError(404, "404 Not found")
        return {**self.state.user_json(self.state.me), "access_level": level}

    def list_labels(self, q: Any, b: Any, kind: str, ident: str) -> Any:
        ns = self._project(ident) if kind == "projects" else self._group(ident)
        parts = ns.full_path.lower().split("/")
        out = []
        for i in range(len(parts), 0, -1):
            out.extend(self.state.labels.get("/".join(parts[:i]), {}).values())
        search = (_one(q, "search") or "").lower()
        return [dict(lbl) for lbl in out if search in lbl["name"].lower()]

    def create_label(self, q: Any, body: Any, kind: str, ident: str) -> Any:
        self._write_scope()
        ns = self._project(ident) if kind == "projects" else self._group(ident)
        self._need(ns, REPORTER if kind == "projects" else PLANNER)
        name = body.get("name")
        if not name or not body.get("color"):
            raise HttpError(400, {"name": ["can't be blank"]} if not name else "color is missing")
        if name in self.state.labels.get(ns.full_path.lower(), {}):
            raise HttpError(409, "Label already exists")
        label = {
            "id": self.state.next_id(),
            "name": name,
            "color": body["color"],
            "description": body.get("description"),
            "is_project_label": kind == "projects",
        }
        self.state.labels.setdefault(ns.full_path.lower(), {})[name] = label
        return dict(label)

    def _filter_issues(self, issues: list[Issue], q: dict[str, list[str]]) -> list[Any]:
        state = _one(q, "state") or "all"
        labels = [x for x in (_one(q, "labels") or "").split(",") if x]
        iids = {int(x) for x in q.get("iids[]", [])}
        milestone = _one(q, "milestone")
        out = []
        for i in issues:
            if not self.state.can_see(i):
                continue
            if state != "all" and i.state != state:
                continue
            if any(lbl not in i.labels for lbl in labels):
                continue
            if iids and i.iid not in iids:
                continue
            ms = self.state.milestone(i.milestone_id)
            if milestone and (ms is None or ms["title"] != milestone):
                continue
            out.append(self.state.issue_json(i))
        out.sort(key=lambda d: d["id"], reverse=True)  # GitLab: created_at desc by default
        return out

    def list_project_issues(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._project(ident)
        return self._filter_issues([i for i in self.state.issues if i.project is ns], q)

    def list_group_issues(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._group(ident)
        prefix = ns.full_path.lower() + "/"
        return self._filter_issues(
            [i for i in self.state.issues if i.project.full_path.lower().startswith(prefix)], q
        )

    def _milestone_for(self, ns: Namespace, mid: Any) -> int | None:
        if mid in (None, 0, "0", ""):
            return None
        ms = self.state.milestone(int(mid))
        if ms is None:
            raise HttpError(404, "404 Milestone Not Found")
        return int(mid)

    def _epic_for_issue(self, issue: Issue, epic_id: Any) -> None:
        if epic_id in (None, 0, "0", ""):
            issue.epic_wi = None
            return
        self._epics_available()
        epic = next((e for e in self.state.epics if e.id == int(epic_id)), None)
        if epic is None:
            raise HttpError(404, "404 Epic Not Found")
        if epic.confidential and not issue.confidential:
            raise HttpError(
                422,
                {
                    "issue": [
                        "Cannot assign a confidential epic to a "
                        "non-confidential issue. Make the issue confidential "
                        "and try again"
                    ]
                },
            )
        issue.epic_wi = epic.wi_id

    def create_issue(self, q: Any, body: Any, ident: str) -> Any:
        self._write_scope()
        ns = self._project(ident)
        if not body.get("title"):
            raise HttpError(400, {"title": ["can't be blank"]})
        labels = [x for x in str(body.get("labels") or "").split(",") if x]
        issue = Issue(
            self.state.next_id(),
            self.state.next_iid(ns),
            ns,
            body["title"],
            body.get("description") or "",
            labels,
            bool(body.get("confidential")),
            self.state.me,
        )
        issue.milestone_id = self._milestone_for(ns, body.get("milestone_id"))
        ids = [int(x) for x in body.get("assignee_ids") or [] if int(x)]
        issue.assignee_ids = ids[:1] if self.state.tier == "free" else ids
        if "epic_id" in body:
            self._epic_for_issue(issue, body["epic_id"])
        self.use_labels(ns, labels)
        self.state.issues.append(issue)
        self.state.state_events.append(
            {"issue": issue.id, "state": "opened", "at": issue.created_at}
        )
        return self.state.issue_json(issue)

    def get_issue(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        return self.state.issue_json(self._issue(ident, iid))

    def update_issue(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        self._write_scope()
        issue = self._issue(ident, iid)
        for key in ("title", "description"):
            if key in body:
                setattr(issue, key, body[key] or "")
        if "confidential" in body:
            issue.confidential = bool(body["confidential"])
        if "labels" in body:
            issue.labels = [x for x in str(body["labels"]).split(",") if x]
        for name in [x for x in str(body.get("remove_labels") or "").split(",") if x]:
            if name in issue.labels:
                issue.labels.remove(name)
        adds = [x for x in str(body.get("add_labels") or "").split(",") if x]
        for name in adds:
            if name not in issue.labels:
                issue.labels.append(name)
        self.use_labels(issue.project, adds)
        if "milestone_id" in body:
            issue.milestone_id = self._milestone_for(issue.project, body["milestone_id"])
        if "assignee_ids" in body:
            ids = [int(x) for x in body["assignee_ids"] or [] if int(x)]
            issue.assignee_ids = ids[:1] if self.state.tier == "free" else ids
        if "epic_id" in body:
            self._epic_for_issue(issue, body["epic_id"])
        event = body.get("state_event")
        if event in ("close", "reopen"):
            new = "closed" if event == "close" else "opened"
            if new != issue.state:
                issue.state = new
                issue.closed_at = now() if new == "closed" else None
                self.state.state_events.append(
                    {
                        "issue": issue.id,
                        "state": "closed" if new == "closed" else "reopened",
                        "at": now(),
                    }
                )
        return self.state.issue_json(issue)

    def list_state_events(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        issue = self._issue(ident, iid)
        return [
            {
                "id": n,
                "state": e["state"],
                "created_at": e["at"],
                "resource_type": "Issue",
                "resource_id": issue.id,
            }
            for n, e in enumerate(self.state.state_events)
            if e["issue"] == issue.id and e["state"] != "opened"
        ]

    def list_notes(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        issue = self._issue(ident, iid)
        notes = [self.state.note_json(n) for n in self.state.notes.get(("issue", issue.id), [])]
        return notes[::-1] if _one(q, "sort") == "desc" else notes

    def create_note(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        self._write_scope()
        issue = self._issue(ident, iid)
        text = str(body.get("body") or "")
        if not text:
            raise HttpError(400, "400 Bad request - body is missing")
        if text.strip() in self.promote_commands:
            return self._promote(issue)
        note = Note(self.state.next_id(), text, self.state.me)
        self.state.notes.setdefault(("issue", issue.id), []).append(note)
        return self.state.note_json(note)

    def delete_note(self, q: Any, b: Any, ident: str, iid: str, nid: str) -> Any:
        issue = self._issue(ident, iid)
        notes = self.state.notes.get(("issue", issue.id), [])
        notes[:] = [n for n in notes if n.id != int(nid)]
        return 204, None, {}

    def _promote(self, issue: Issue) -> Any:
        if self.state.tier == "free":
            raise HttpError(400, "400 Bad request - Could not apply promote command.")
        group = self.state.find(issue.project.parent or "", "group")
        assert group is not None
        self._need(group, PLANNER)
        epic = self.new_epic(
            group, issue.title, issue.description, list(issue.labels), issue.confidential
        )
        issue.state, issue.closed_at = "closed", now()
        self.state.notes.setdefault(("issue", issue.id), []).append(
            Note(
                self.state.next_id(),
                f"promoted to epic {group.full_path}&{epic.iid}",
                self.state.me,
                system=True,
            )
        )
        return (
            202,
            {
                "commands_changes": {"promote_to_epic": True},
                "summary": ["Promoted issue to an epic."],
            },
            {},
        )

    def list_links(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        issue = self._issue(ident, iid)
        out = []
        for link in self.state.links:
            other_id = (
                link["target"]
                if link["source"] == issue.id
                else link["source"]
                if link["target"] == issue.id
                else None
            )
            if other_id is None:
                continue
            other = next(i for i in self.state.issues if i.id == other_id)
            out.append(
                {
                    **self.state.issue_json(other),
                    "issue_link_id": link["id"],
                    "link_type": link["link_type"],
                }
            )
        return out

    def create_link(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        self._write_scope()
        source = self._issue(ident, iid)
        target = self._issue(str(body.get("target_project_id")), str(body.get("target_issue_iid")))
        kind = body.get("link_type") or "relates_to"
        if kind != "relates_to" and self.state.tier == "free":
            raise HttpError(403, "Blocked issues not available for current license")
        for link in self.state.links:
            if {link["source"], link["target"]} == {source.id, target.id}:
                raise HttpError(409, "Issue(s) already assigned")
        link = {
            "id": self.state.next_id(),
            "source": source.id,
            "target": target.id,
            "link_type": kind,
        }
        self.state.links.append(link)
        return {
            "source_issue": self.state.issue_json(source),
            "target_issue": self.state.issue_json(target),
            "link_type": kind,
        }

    def delete_link(self, q: Any, b: Any, ident: str, iid: str, link_id: str) -> Any:
        self._issue(ident, iid)
        before = len(self.state.links)
        self.state.links[:] = [x for x in self.state.links if x["id"] != int(link_id)]
        if len(self.state.links) == before:
            raise HttpError(404, "404 Not found")
        return {"link_type": "relates_to"}

    def _milestone_json(self, ms: dict[str, Any]) -> dict[str, Any]:
        return dict(ms)

    def list_group_milestones(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._group(ident)
        title = _one(q, "title")
        return [
            dict(m)
            for m in self.state.milestones
            if m["group_id"] == ns.id and (title is None or m["title"] == title)
        ]

    def list_project_milestones(self, q: Any, b: Any, ident: str) -> Any:
        ns = self._project(ident)
        title = _one(q, "title")
        ancestors = {
            n.id
            for p, n in self.state.namespaces.items()
            if n.kind == "group" and (ns.full_path.lower() + "/").startswith(p + "/")
        }
        return [
            dict(m)
            for m in self.state.milestones
            if m["group_id"] in ancestors and (title is None or m["title"] == title)
        ]

    def create_milestone(self, q: Any, body: Any, ident: str) -> Any:
        self._write_scope()
        ns = self._group(ident)
        self._need(ns, REPORTER)
        title = body.get("title")
        if not title:
            raise HttpError(400, {"title": ["can't be blank"]})
        if any(m["group_id"] == ns.id and m["title"] == title for m in self.state.milestones):
            raise HttpError(
                400, {"title": ["already being used for another group or project milestone."]}
            )
        mid = self.state.next_id()
        ms = {
            "id": mid,
            "iid": mid,
            "group_id": ns.id,
            "title": title,
            "description": body.get("description") or "",
            "state": "active",
            "start_date": body.get("start_date"),
            "due_date": body.get("due_date"),
            "created_at": now(),
            "updated_at": now(),
            "expired": False,
            "web_url": f"{self.url}/groups/{ns.full_path}/-/milestones/{mid}",
        }
        self.state.milestones.append(ms)
        return dict(ms)

    def update_milestone(self, q: Any, body: Any, ident: str, mid: str) -> Any:
        self._write_scope()
        ns = self._group(ident)
        ms = next(
            (m for m in self.state.milestones if m["id"] == int(mid) and m["group_id"] == ns.id),
            None,
        )
        if ms is None:
            raise HttpError(404, "404 Milestone Not Found")
        for key in ("title", "description", "start_date", "due_date"):
            if key in body:
                ms[key] = body[key]
        if body.get("state_event") in ("close", "activate"):
            ms["state"] = "closed" if body["state_event"] == "close" else "active"
        return dict(ms)

    def list_epics(self, q: Any, b: Any, ident: str) -> Any:
        self._epics_available()
        ns = self._group(ident)
        labels = [x for x in (_one(q, "labels") or "").split(",") if x]
        return [
            self.state.epic_json(e)
            for e in self.state.epics
            if e.group is ns and all(lbl in e.labels for lbl in labels)
        ]

    def create_epic(self, q: Any, body: Any, ident: str) -> Any:
        self._write_scope()
        self._epics_available()
        ns = self._group(ident)
        self._need(ns, PLANNER)
        labels = [x for x in str(body.get("labels") or "").split(",") if x]
        epic = self.new_epic(
            ns, body["title"], body.get("description") or "", labels, bool(body.get("confidential"))
        )
        return self.state.epic_json(epic)

    def get_epic(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        return self.state.epic_json(self._epic(ident, iid))

    def update_epic(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        self._write_scope()
        epic = self._epic(ident, iid)
        for key in ("title", "description"):
            if key in body:
                setattr(epic, key, body[key] or "")
        if "confidential" in body:
            epic.confidential = bool(body["confidential"])
        for name in [x for x in str(body.get("remove_labels") or "").split(",") if x]:
            if name in epic.labels:
                epic.labels.remove(name)
        for name in [x for x in str(body.get("add_labels") or "").split(",") if x]:
            if name not in epic.labels:
                epic.labels.append(name)
        if body.get("state_event") in ("close", "reopen"):
            epic.state = "closed" if body["state_event"] == "close" else "opened"
        return self.state.epic_json(epic)


def _one(q: dict[str, list[str]], key: str) -> str | None:
    values = q.get(key)
    return values[0] if values else None


_SEG = r"([^/]+(?:/[^/]+)*?)"
_MR_ROUTES = [(verb, re.compile(rx), name) for verb, rx, name in MR_ROUTES]
_ROUTES: list[tuple[str, re.Pattern[str], Any]] = [
    (verb, re.compile(rx), fn)
    for verb, rx, fn in [
        ("GET", r"user", FakeGitLab.get_user),
        ("GET", r"personal_access_tokens/self", FakeGitLab.get_token_self),
        ("GET", r"users", FakeGitLab.get_users),
        ("GET", rf"(projects|groups)/{_SEG}/members/all/(\d+)", FakeGitLab.get_member),
        ("GET", rf"(projects|groups)/{_SEG}/labels", FakeGitLab.list_labels),
        ("POST", rf"(projects|groups)/{_SEG}/labels", FakeGitLab.create_label),
        (
            "GET",
            rf"projects/{_SEG}/issues/(\d+)/resource_state_events",
            FakeGitLab.list_state_events,
        ),
        ("GET", rf"projects/{_SEG}/issues/(\d+)/notes", FakeGitLab.list_notes),
        ("POST", rf"projects/{_SEG}/issues/(\d+)/notes", FakeGitLab.create_note),
        ("DELETE", rf"projects/{_SEG}/issues/(\d+)/notes/(\d+)", FakeGitLab.delete_note),
        ("GET", rf"projects/{_SEG}/issues/(\d+)/links", FakeGitLab.list_links),
        ("POST", rf"projects/{_SEG}/issues/(\d+)/links", FakeGitLab.create_link),
        ("DELETE", rf"projects/{_SEG}/issues/(\d+)/links/(\d+)", FakeGitLab.delete_link),
        ("GET", rf"projects/{_SEG}/issues/(\d+)", FakeGitLab.get_issue),
        ("PUT", rf"projects/{_SEG}/issues/(\d+)", FakeGitLab.update_issue),
        ("GET", rf"projects/{_SEG}/issues", FakeGitLab.list_project_issues),
        ("POST", rf"projects/{_SEG}/issues", FakeGitLab.create_issue),
        ("GET", rf"projects/{_SEG}/milestones", FakeGitLab.list_project_milestones),
        ("GET", rf"groups/{_SEG}/issues", FakeGitLab.list_group_issues),
        ("GET", rf"groups/{_SEG}/milestones", FakeGitLab.list_group_milestones),
        ("POST", rf"groups/{_SEG}/milestones", FakeGitLab.create_milestone),
        ("PUT", rf"groups/{_SEG}/milestones/(\d+)", FakeGitLab.update_milestone),
        ("GET", rf"groups/{_SEG}/epics/(\d+)", FakeGitLab.get_epic),
        ("PUT", rf"groups/{_SEG}/epics/(\d+)", FakeGitLab.update_epic),
        ("GET", rf"groups/{_SEG}/epics", FakeGitLab.list_epics),
        ("POST", rf"groups/{_SEG}/epics", FakeGitLab.create_epic),
        ("GET", rf"projects/{_SEG}", FakeGitLab.get_project),
        ("GET", rf"groups/{_SEG}", FakeGitLab.get_group),
    ]
]
# Merge request notes (tests/gitlab_fake/mr_notes.py), ahead of the catch-all project route.
_ROUTES[:0] = mr_note_routes(_SEG)


def _handler(fake: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # one buffered write per answer (headers and body together): no delayed-ACK stalls
        wbufsize = 1 << 16

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read fake.requests instead

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, out, headers = fake.handle(self.command, self.path, self.headers, body)
            raw = isinstance(out, RawText)
            data = b"" if out is None else str(out).encode() if raw else json.dumps(out).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if raw else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
