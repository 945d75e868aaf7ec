"""The GraphQL documents the backend sends (Work Items API), and the check of a mutation's
``errors`` field.

Field and argument names follow GitLab's GraphQL reference (docs.gitlab.com/api/graphql/reference)
and gitlab.com's introspected schema; the test stand-in validates every document against an SDL
excerpt of that schema (tests/gitlab_fake/schema.graphql).
"""

from __future__ import annotations

from typing import Any

from secplan.errors import ConflictError, TrackerError
from secplan.tracker.gitlab.errors import CONFIDENTIAL_HINT, is_confidential_refusal

WORK_ITEM_FIELDS = """
fragment SecplanWorkItem on WorkItem {
  id
  iid
  title
  description
  state
  confidential
  webUrl
  createdAt
  closedAt
  workItemType { id name }
  namespace { fullPath }
  widgets {
    type
    ... on WorkItemWidgetLabels { labels { nodes { id title } } }
    ... on WorkItemWidgetHierarchy { parent { id iid } }
  }
}
"""

#: The namespace's work item types; the EPIC one gives the ``workItemTypeId`` for creation.
WORK_ITEM_TYPES = """
query SecplanWorkItemTypes($fullPath: ID!) {
  namespace(fullPath: $fullPath) {
    id
    workItemTypes(name: EPIC) { nodes { id name } }
  }
}
"""

WORK_ITEM_BY_IID = (
    """
query SecplanWorkItem($fullPath: ID!, $iid: String!) {
  namespace(fullPath: $fullPath) {
    workItem(iid: $iid) { ...SecplanWorkItem }
  }
}
"""
    + WORK_ITEM_FIELDS
)

#: Epics of a group carrying all the given labels, 100 per page.
EPICS_BY_LABEL = (
    """
query SecplanEpics($fullPath: ID!, $labels: [String!], $search: String, $after: String,
                   $state: IssuableState) {
  group(fullPath: $fullPath) {
    workItems(types: [EPIC], labelName: $labels, search: $search, state: $state,
              first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...SecplanWorkItem }
    }
  }
}
"""
    + WORK_ITEM_FIELDS
)

WORK_ITEM_CREATE = (
    """
mutation SecplanWorkItemCreate($input: WorkItemCreateInput!) {
  workItemCreate(input: $input) {
    workItem { ...SecplanWorkItem }
    errors
  }
}
"""
    + WORK_ITEM_FIELDS
)

WORK_ITEM_UPDATE = (
    """
mutation SecplanWorkItemUpdate($input: WorkItemUpdateInput!) {
  workItemUpdate(input: $input) {
    workItem { ...SecplanWorkItem }
    errors
  }
}
"""
    + WORK_ITEM_FIELDS
)

#: Every document the backend sends (the test stand-in validates each of them).
ALL_DOCUMENTS = {
    "work_item_types": WORK_ITEM_TYPES,
    "work_item_by_iid": WORK_ITEM_BY_IID,
    "epics_by_label": EPICS_BY_LABEL,
    "work_item_create": WORK_ITEM_CREATE,
    "work_item_update": WORK_ITEM_UPDATE,
}


def check_payload(data: dict[str, Any], field: str, what: str) -> dict[str, Any]:
    """The payload of mutation ``field``; its ``errors`` list (GitLab reports refusals there
    with HTTP 200) raised as :class:`ConflictError`."""
    payload = data.get(field)
    if not isinstance(payload, dict):
        raise TrackerError(f"GitLab answered {what} without a {field} payload")
    errors = payload.get("errors") or []
    if errors:
        text = "; ".join(str(e) for e in errors)
        if is_confidential_refusal(text):
            raise ConflictError(
                f"GitLab refused to {what}: a non-confidential issue cannot go under a "
                f"confidential epic ({text})",
                hint=CONFIDENTIAL_HINT,
            )
        raise ConflictError(f"GitLab refused to {what}: {text}")
    return payload
