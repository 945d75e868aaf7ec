"""The whole flow against a real GitLab, in a throw-away group that is deleted afterwards.

Opt-in: skipped unless ``SECPLAN_GITLAB_URL`` and ``GITLAB_TOKEN`` are set. The group is made
under ``SECPLAN_GITLAB_PARENT_GROUP`` when that is set (GitLab.com allows no new top-level
groups through the API). See docs/gitlab.md.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import requests

from secplan.tracker.base import IssueUpdate
from secplan.tracker.gitlab import GitLabTracker
from secplan.tracker.gitlab.client import encode_path

URL = os.environ.get("SECPLAN_GITLAB_URL", "")
TOKEN = os.environ.get("GITLAB_TOKEN", "")
PARENT = os.environ.get("SECPLAN_GITLAB_PARENT_GROUP", "")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN), reason="set SECPLAN_GITLAB_URL and GITLAB_TOKEN to run the live test"
)


def _api(method: str, path: str, **kw: object) -> requests.Response:
    resp = requests.request(
        method,
        f"{URL.rstrip('/')}/api/v4/{path}",
        headers={"PRIVATE-TOKEN": TOKEN},
        timeout=30,
        **kw,  # type: ignore[arg-type]
    )
    resp.raise_for_status()
    return resp


@pytest.fixture
def sandbox() -> Iterator[tuple[str, str]]:
    """A new group with one project: ``(group path, project path)``; deleted afterwards."""
    name = f"secplan-live-{secrets.token_hex(4)}"
    body: dict[str, object] = {"name": name, "path": name, "visibility": "private"}
    if PARENT:
        body["parent_id"] = _api("GET", f"groups/{encode_path(PARENT)}").json()["id"]
    group = _api("POST", "groups", json=body).json()
    try:
        _api("POST", "projects", json={"name": "planning", "namespace_id": group["id"]})
        yield group["full_path"], f"{group['full_path']}/planning"
    finally:
        requests.delete(
            f"{URL.rstrip('/')}/api/v4/groups/{group['id']}",
            headers={"PRIVATE-TOKEN": TOKEN},
            timeout=30,
        )


def test_live_flow(sandbox):
    group, project = sandbox
    tracker = GitLabTracker(URL, TOKEN, default_group=group, default_project=project)
    try:
        assert tracker.check_access([project], [group]) == []
        mode = tracker.capabilities.epics
        epic = tracker.create_epic(group, "Live plan", "<!-- secplan:plan=live kind=epic -->")
        tracker.create_milestone(group, "Live phase")
        issue = tracker.create_issue(
            project,
            "Live item",
            "text\n<!-- secplan:plan=live item=one -->",
            labels=["secplan-live"],
            milestone="Live phase",
            epic=epic.ref,
        )
        [found] = tracker.find_issues(project, "<!-- secplan:plan=live item=one -->")
        assert found.ref == issue.ref and found.epic == epic.ref and found.confidential
        assert [e.ref for e in tracker.find_epics(group, "plan=live kind=epic")] == [epic.ref]
        updated = tracker.update_issue(issue.ref, IssueUpdate(add_labels=["secplan-live-2"]))
        assert "secplan-live-2" in updated.labels
        assert tracker.close_issue(issue.ref, note="done").state == "closed"
        if mode != "tracking_issue":
            other = tracker.create_issue(project, "Promote me", "body")
            promoted = tracker.promote_issue(other.ref)
            assert promoted.title == "Promote me"
        print(tracker.stats.summary())
    finally:
        tracker.close()
