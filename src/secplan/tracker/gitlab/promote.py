"""Promotion of an issue to an epic with GitLab's quick action, sent as a note.

``/promote`` is the issue quick action (Premium and Ultimate, GitLab 11.x onward); GitLab 16.1
added ``/promote_to <type>`` for work items, and issues shown as work items take
``/promote_to Epic``. A note made only of quick actions answers ``202 Accepted`` with
``commands_changes`` and keeps no note; an instance that does not know the command keeps it as a
plain note (201), which is deleted again before the next form is tried. The new epic is found
from the issue's "promoted to epic" system note, else by title in the group.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from secplan.errors import ConflictError, TrackerError
from secplan.tracker.base import IssueUpdate, TrackedEpic
from secplan.tracker.gitlab.epics import EPIC_LABEL, TrackingIssueEpics
from secplan.tracker.gitlab.paths import issue_parts, issue_path

if TYPE_CHECKING:
    from secplan.tracker.gitlab.tracker import GitLabTracker

_PROMOTED = re.compile(r"promoted to epic (?P<ref>[A-Za-z0-9_./-]*&\d+)")
#: The quick actions tried, in order.
PROMOTE_COMMANDS = ("/promote", "/promote_to Epic")


def promote_issue(t: GitLabTracker, ref: str) -> TrackedEpic:
    """Promote the issue to an epic in its project's group with GitLab's quick action
    (``/promote``, else ``/promote_to Epic``) sent as a note, then find the new epic. On
    the Free tier the issue itself becomes the tracking issue standing in for an epic."""
    project, _iid = issue_parts(ref)
    group = project.rsplit("/", 1)[0] if "/" in project else project
    if isinstance(t.epics, TrackingIssueEpics):
        with t.quiet_progress():
            issue = t.update_issue(ref, IssueUpdate(add_labels=[EPIC_LABEL]))
        t.tracking_kids(issue.ref)
        t._progress(f"epic {issue.ref}")
        return t.epics._as_epic(issue)
    done = _promoted_note(t, ref)
    if done is not None:
        # GitLab would make a second epic from the same issue: say where the first one is.
        raise ConflictError(
            f"{ref} was already promoted to {done['promoted_note']}",
            hint=f"Use the epic {done['promoted_note']}.",
        )
    for command in PROMOTE_COMMANDS:
        if _quick_action(t, ref, command):
            break
    else:
        raise TrackerError(
            f"GitLab did not promote {ref}: it accepts neither /promote nor /promote_to Epic",
            hint="Promotion needs GitLab Premium or Ultimate; see docs/gitlab.md.",
        )
    epic = _promoted_epic(t, ref, group)
    if epic is None:
        raise TrackerError(f"GitLab promoted {ref} but the new epic could not be found")
    t._progress(f"epic {epic.ref}")
    return epic


def _quick_action(t: GitLabTracker, ref: str, command: str) -> bool:
    """Send a note made only of ``command``: GitLab answers 202 with ``commands_changes``
    and keeps no note. A 201 means the command was not recognised (a plain note was kept,
    which is deleted again)."""
    status, data, _h = t.client.request(
        "POST",
        f"{issue_path(ref)}/notes",
        json={"body": command},
        what=f"promote {ref}",
        role="Planner",
        pace="note",
        # a lost answer: promoted already? (sending it again could make a second epic)
        find_existing=lambda: _promoted_note(t, ref),
    )
    if isinstance(data, dict) and data.get("promoted_note"):
        return True
    if status == 202:
        changes = (data or {}).get("commands_changes") or {}
        return bool(changes)
    if isinstance(data, dict) and data.get("id") and data.get("body") == command:
        t.client.request(
            "DELETE",
            f"{issue_path(ref)}/notes/{data['id']}",
            what=f"remove the note {command!r} from {ref}",
            safe=True,
        )
    return False


def _promoted_note(t: GitLabTracker, ref: str) -> dict[str, object] | None:
    """``{"promoted_note": ref}`` when the issue's notes say it was promoted, else None."""
    for data in (
        t.client.get(
            f"{issue_path(ref)}/notes",
            {"sort": "desc", "order_by": "created_at", "per_page": 20},
            what=f"notes of {ref}",
        )
        or []
    ):
        m = _PROMOTED.search(data.get("body") or "")
        if m:
            return {"promoted_note": m["ref"]}
    return None


def _promoted_epic(t: GitLabTracker, ref: str, group: str) -> TrackedEpic | None:
    for data in (
        t.client.get(
            f"{issue_path(ref)}/notes",
            {"sort": "desc", "order_by": "created_at", "per_page": 20},
            what=f"notes of {ref}",
        )
        or []
    ):
        m = _PROMOTED.search(data.get("body") or "")
        if m:
            epic_ref = m["ref"] if not m["ref"].startswith("&") else f"{group}{m['ref']}"
            found = t.get_epic(epic_ref)
            if found is not None:
                return found
    issue = t.get_issue(ref)
    if issue is None:
        return None
    candidates = [e for e in t.epics.list_all(group) if e.title == issue.title]
    return max(candidates, key=lambda e: e.iid) if candidates else None
