"""Notes, state events and issue links (docs.gitlab.com/api/notes, resource_state_events,
issue_links): part of :class:`~secplan.tracker.gitlab.tracker.GitLabTracker`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from secplan.errors import ConflictError, UsageError
from secplan.refs import parse_epic_ref
from secplan.tracker.base import (
    Capabilities,
    ListIssuesFromIter,
    StateEvent,
    TrackedIssue,
    TrackedNote,
)
from secplan.tracker.gitlab.client import GitLabClient, encode_path
from secplan.tracker.gitlab.convert import note_from_rest, when
from secplan.tracker.gitlab.paths import issue_parts, issue_path


class NoteAndLinkMethods(ListIssuesFromIter):
    """Note, state-event and link calls (links read issue lists)."""

    client: GitLabClient
    tracking_children: dict[str, set[str]]
    _progress: Callable[[str], None]

    if TYPE_CHECKING:

        @property
        def capabilities(self) -> Capabilities: ...
        def get_issues(self, refs: Any) -> dict[str, TrackedIssue]: ...

    def _notes_path(self, ref: str) -> str:
        epic = parse_epic_ref(ref)
        if epic is not None:
            return f"groups/{encode_path(epic.path)}/epics/{epic.iid}/notes"
        return f"{issue_path(ref)}/notes"

    def add_note(self, ref: str, body: str, author: str | None = None) -> TrackedNote:
        """A note on the issue or epic ``ref``, by the token's user (``author`` is ignored:
        GitLab records who wrote it)."""
        path = self._notes_path(ref)

        def existing() -> Any:
            for data in (
                self.client.get(
                    path, {"sort": "desc", "order_by": "created_at", "per_page": 20}, what="notes"
                )
                or []
            ):
                if data.get("body") == body:
                    return data
            return None

        _s, data, _h = self.client.request(
            "POST",
            path,
            json={"body": body},
            what=f"add a note to {ref}",
            find_existing=existing,
            pace="note",
        )
        self._progress(f"note on {ref}")
        return note_from_rest(data)

    def notes(self, ref: str) -> list[TrackedNote]:
        """The notes of ``ref``, oldest first."""
        return [
            note_from_rest(d)
            for d in self.client.pages(
                self._notes_path(ref), {"sort": "asc", "order_by": "created_at"}, what="notes"
            )
        ]

    def state_events(self, refs: list[str] | None = None) -> list[StateEvent]:
        """Opened (creation) and every close/reopen of the issues, oldest first (one read per
        issue: GitLab has no bulk state-event listing)."""
        issues = (
            list(self.get_issues(refs).values())
            if refs is not None
            else self.list_issues(state="all")
        )
        events: list[StateEvent] = []
        for issue in issues:
            if issue.created_at:
                events.append(StateEvent(issue.ref, "opened", issue.created_at))
            for data in self.client.pages(
                f"{issue_path(issue.ref)}/resource_state_events", {}, what="state events"
            ):
                at = when(data.get("created_at"))
                if at is not None:
                    state = "closed" if data.get("state") == "closed" else "opened"
                    events.append(StateEvent(issue.ref, state, at))  # type: ignore[arg-type]
        events.sort(key=lambda e: e.at)
        return events

    def link_issues(self, source: str, target: str, link_type: str = "relates_to") -> None:
        """Link two issues (idempotent: GitLab's "already related" answer is fine)."""
        if link_type not in self.capabilities.link_types:
            raise UsageError(f"link type must be one of {', '.join(self.capabilities.link_types)}")
        tproject, tiid = issue_parts(target)
        if issue_parts(source) == (tproject, tiid):
            raise UsageError("an issue cannot be linked to itself")
        with contextlib.suppress(ConflictError):  # already linked
            self.client.request(
                "POST",
                f"{issue_path(source)}/links",
                json={
                    "target_project_id": tproject,
                    "target_issue_iid": tiid,
                    "link_type": link_type,
                },
                what=f"link {source} to {target}",
                find_existing=lambda: self._link_id(source, target),
            )

    def _link_id(self, source: str, target: str) -> Any:
        for link in self.client.pages(f"{issue_path(source)}/links", {}, what="issue links"):
            if str((link.get("references") or {}).get("full", "")).lower() == target.lower():
                return link
        return None

    def unlink_issues(self, source: str, target: str) -> None:
        """Remove the link between two issues, if there is one."""
        link = self._link_id(source, target)
        if link is not None:
            self.client.request(
                "DELETE",
                f"{issue_path(source)}/links/{link['issue_link_id']}",
                what=f"unlink {source} from {target}",
                safe=True,
            )
        for key, kids in self.tracking_children.items():
            if key.lower() == target.lower():
                kids.discard(source.lower())
