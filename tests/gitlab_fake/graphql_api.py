"""The fake's GraphQL endpoint: every document is parsed and validated against the SDL excerpt
of GitLab's schema (schema.graphql) before it is executed with graphql-core.

Answers follow GitLab's documented behaviour: a validation failure is HTTP 200 with top-level
``errors``; a refused mutation is HTTP 200 with the payload's ``errors`` list filled
(https://docs.gitlab.com/api/graphql/#mutations: "errors: list of errors during the mutation").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql

from tests.gitlab_fake.state import Epic, Issue, State, now

if TYPE_CHECKING:
    from tests.gitlab_fake.server import FakeGitLab

SCHEMA_SDL = (Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8")
SCHEMA = graphql.build_schema(SCHEMA_SDL)
EPIC_TYPE_ID = "gid://gitlab/WorkItems::Type/8"
ISSUE_TYPE_ID = "gid://gitlab/WorkItems::Type/1"


def validate(document: str) -> list[str]:
    """The validation errors of ``document`` against the schema excerpt (empty when valid)."""
    try:
        doc = graphql.parse(document)
    except graphql.GraphQLError as exc:
        return [exc.message]
    return [e.message for e in graphql.validate(SCHEMA, doc)]


def _gid_id(gid: str | None) -> int | None:
    return int(gid.rsplit("/", 1)[1]) if gid else None


class GraphQLApi:
    """Resolvers over the fake's state."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake

    @property
    def s(self) -> State:
        return self.fake.state

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        document = str(body.get("query") or "")
        self.fake.graphql_documents.append(document)
        errors = validate(document)
        if errors:
            return {"errors": [{"message": m} for m in errors]}
        root = {
            "namespace": self._namespace,
            "group": self._group,
            "workItemCreate": self._create,
            "workItemUpdate": self._update,
        }
        result = graphql.execute(
            SCHEMA,
            graphql.parse(document),
            root_value=root,
            variable_values=body.get("variables") or {},
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [{"message": e.message} for e in result.errors]
        return out

    # -- shapes -------------------------------------------------------------------------

    def _label_nodes(self, names: list[str], owner: str) -> dict[str, Any]:
        nodes = []
        for name in names:
            label = self.fake.label(owner, name)
            nodes.append(
                {
                    "id": f"gid://gitlab/GroupLabel/{label['id'] if label else 0}",
                    "title": name,
                    "color": "#6699cc",
                }
            )
        return {"nodes": nodes, "pageInfo": _page(False)}

    def epic_node(self, epic: Epic) -> dict[str, Any]:
        path = epic.group.full_path
        node = _work_item(epic, epic.wi_id, f"{self.s.base_url}/groups/{path}/-/work_items")
        node["workItemType"] = {"id": EPIC_TYPE_ID, "name": "Epic"}
        node["namespace"] = {"id": f"gid://gitlab/Group/{epic.group.id}", "fullPath": path}
        return node | {
            "widgets": [
                {
                    "__typename": "WorkItemWidgetDescription",
                    "type": "DESCRIPTION",
                    "description": epic.description,
                    "edited": False,
                },
                {
                    "__typename": "WorkItemWidgetLabels",
                    "type": "LABELS",
                    "allowsScopedLabels": True,
                    "labels": self._label_nodes(epic.labels, path),
                },
                {
                    "__typename": "WorkItemWidgetHierarchy",
                    "type": "HIERARCHY",
                    "hasChildren": any(i.epic_wi == epic.wi_id for i in self.s.issues),
                    "parent": None,
                },
            ],
        }

    def issue_node(self, issue: Issue) -> dict[str, Any]:
        epic = self.s.epic_by_wi(issue.epic_wi)
        path = issue.project.full_path
        node = _work_item(issue, issue.id, f"{self.s.base_url}/{path}/-/issues")
        node["workItemType"] = {"id": ISSUE_TYPE_ID, "name": "Issue"}
        node["namespace"] = {"id": f"gid://gitlab/Project/{issue.project.id}", "fullPath": path}
        return node | {
            "widgets": [
                {
                    "__typename": "WorkItemWidgetHierarchy",
                    "type": "HIERARCHY",
                    "hasChildren": False,
                    "parent": self.epic_node(epic) if epic else None,
                },
            ],
        }

    # -- queries ------------------------------------------------------------------------

    def _namespace(self, info: Any, fullPath: str) -> dict[str, Any] | None:
        ns = self.s.namespaces.get(fullPath.lower())
        if ns is None:
            return None

        def work_item_types(info: Any, name: str | None = None, **_kw: Any) -> dict[str, Any]:
            types = [{"id": ISSUE_TYPE_ID, "name": "Issue"}]
            if self.s.tier == "ultimate":  # "premium" here stands for an instance without them
                types.append({"id": EPIC_TYPE_ID, "name": "Epic"})
            if name is not None:
                types = [t for t in types if t["name"].upper() == name]
            return {"nodes": types, "pageInfo": _page(False)}

        def work_item(info: Any, iid: str) -> dict[str, Any] | None:
            if self.s.tier != "ultimate":
                return None
            if ns.kind == "group":
                epic = next((e for e in self.s.epics if e.group is ns and e.iid == int(iid)), None)
                return self.epic_node(epic) if epic else None
            issue = next((i for i in self.s.issues if i.project is ns and i.iid == int(iid)), None)
            return self.issue_node(issue) if issue and self.s.can_see(issue) else None

        return {
            "id": f"gid://gitlab/Namespace/{ns.id}",
            "fullPath": ns.full_path,
            "workItemTypes": work_item_types,
            "workItem": work_item,
        }

    def _group(self, info: Any, fullPath: str) -> dict[str, Any] | None:
        ns = self.s.find(fullPath, "group")
        if ns is None:
            return None

        def work_items(
            info: Any,
            labelName: list[str] | None = None,
            search: str | None = None,
            state: str | None = None,
            types: list[str] | None = None,
            first: int | None = None,
            after: str | None = None,
            **_kw: Any,
        ) -> dict[str, Any]:
            epics = [
                e
                for e in self.s.epics
                if self.s.tier == "ultimate"
                and (
                    e.group is ns
                    or e.group.full_path.lower().startswith(ns.full_path.lower() + "/")
                )
                and all(lbl in e.labels for lbl in labelName or [])
                and (not search or search.lower() in (e.title + " " + e.description).lower())
                and (state in (None, "all") or e.state == state)
                and (types is None or "EPIC" in types)
            ]
            start = int(after or 0)
            size = min(first or 100, 100)
            page = epics[start : start + size]
            more = start + size < len(epics)
            return {
                "count": len(epics),
                "nodes": [self.epic_node(e) for e in page],
                "pageInfo": _page(more, str(start + size) if more else None),
            }

        return {
            "id": f"gid://gitlab/Group/{ns.id}",
            "fullPath": ns.full_path,
            "workItems": work_items,
        }

    # -- mutations ------------------------------------------------------------------------

    def _injected(self, name: str) -> list[str] | None:
        return self.fake.take_mutation_errors(name)

    def _create(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        injected = self._injected("workItemCreate")
        if injected:
            return {"errors": injected, "workItem": None}
        ns = self.s.find(str(input.get("namespacePath") or ""), "group")
        if ns is None or self.s.tier != "ultimate":
            return {
                "errors": [
                    "The resource that you are attempting to access does not exist "
                    "or you don't have permission to perform this action"
                ],
                "workItem": None,
            }
        if input["workItemTypeId"] != EPIC_TYPE_ID:
            return {"errors": ["Work item type is not supported here"], "workItem": None}
        names = [
            self.fake.label_name(_gid_id(g) or 0)
            for g in (input.get("labelsWidget") or {}).get("labelIds") or []
        ]
        epic = self.fake.new_epic(
            ns,
            input["title"],
            (input.get("descriptionWidget") or {}).get("description", ""),
            [n for n in names if n],
            bool(input.get("confidential")),
        )
        return {"errors": [], "workItem": self.epic_node(epic)}

    def _update(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        injected = self._injected("workItemUpdate")
        wid = _gid_id(input["id"])
        epic = self.s.epic_by_wi(wid)
        issue = next((i for i in self.s.issues if i.id == wid), None)
        if injected:
            node = self.epic_node(epic) if epic else self.issue_node(issue) if issue else None
            return {"errors": injected, "workItem": node}
        if epic is None and issue is None:
            return {
                "errors": [
                    "The resource that you are attempting to access does not exist "
                    "or you don't have permission to perform this action"
                ],
                "workItem": None,
            }
        if issue is not None:
            hier = input.get("hierarchyWidget")
            if hier is not None and "parentId" in hier:
                parent = self.s.epic_by_wi(_gid_id(hier["parentId"]))
                if hier["parentId"] and parent is None:
                    return {
                        "errors": ["No matching work item found"],
                        "workItem": self.issue_node(issue),
                    }
                if parent and parent.confidential and not issue.confidential:
                    # ee/app/models/work_items/parent_link.rb (validate_confidentiality)
                    ref = f"{issue.project.full_path}#{issue.iid}"
                    return {
                        "errors": [
                            f"{ref} cannot be added: cannot assign a non-confidential issue to a "
                            "confidential parent. Make the issue confidential and try again."
                        ],
                        "workItem": self.issue_node(issue),
                    }
                issue.epic_wi = parent.wi_id if parent else None
            return {"errors": [], "workItem": self.issue_node(issue)}
        assert epic is not None
        if "title" in input and input["title"] is not None:
            epic.title = input["title"]
        if input.get("descriptionWidget"):
            epic.description = input["descriptionWidget"]["description"]
        if input.get("confidential") is not None:
            epic.confidential = bool(input["confidential"])
        if input.get("stateEvent"):
            epic.state = "closed" if input["stateEvent"] == "CLOSE" else "opened"
            epic.closed_at = now() if epic.state == "closed" else None
        labels = input.get("labelsWidget") or {}
        for gid in labels.get("removeLabelIds") or []:
            name = self.fake.label_name(_gid_id(gid) or 0)
            if name in epic.labels:
                epic.labels.remove(name)
        for gid in labels.get("addLabelIds") or []:
            name = self.fake.label_name(_gid_id(gid) or 0)
            if name and name not in epic.labels:
                epic.labels.append(name)
        return {"errors": [], "workItem": self.epic_node(epic)}


def _work_item(obj: Epic | Issue, wi_id: int, url_prefix: str) -> dict[str, Any]:
    """The fields a WorkItem node has whatever its type (docs.gitlab.com/api/graphql/reference,
    "WorkItem")."""
    return {
        "id": f"gid://gitlab/WorkItem/{wi_id}",
        "iid": str(obj.iid),
        "title": obj.title,
        "description": obj.description,
        "state": "CLOSED" if obj.state == "closed" else "OPEN",
        "confidential": obj.confidential,
        "webUrl": f"{url_prefix}/{obj.iid}",
        "createdAt": obj.created_at,
        "closedAt": obj.closed_at,
    }


def _page(more: bool, cursor: str | None = None) -> dict[str, Any]:
    return {"hasNextPage": more, "hasPreviousPage": False, "endCursor": cursor, "startCursor": None}
