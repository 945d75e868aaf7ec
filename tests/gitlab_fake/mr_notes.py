"""Merge request notes in the GitLab stand-in: list, create, modify (what ``plan --mr-note`` calls).

Shapes from https://docs.gitlab.com/api/notes/#merge-requests:
- ``GET /projects/:id/merge_requests/:merge_request_iid/notes`` (``sort`` asc|desc,
  ``order_by`` created_at|updated_at; paginated) answers an array of notes ``{id, body,
  author {id, username, ...}, created_at, updated_at, system, noteable_id, noteable_type:
  "MergeRequest", noteable_iid, resolvable}``.
- ``POST .../notes`` with ``body`` answers ``201`` and the note; an empty body is ``400``.
- ``PUT .../notes/:note_id`` with ``body`` answers the changed note; a note by someone else is
  ``403`` (only its author may edit it), an unknown one ``404``.
A merge request that does not exist is ``404 {"message": "404 Not found"}``.

The notes are those of :mod:`tests.gitlab_fake.merge_requests` (a note is a discussion of
its own there, as GitLab keeps it); ``POST`` is that module's ``create_note``. Tests open a
merge request without commits with :func:`open_merge_request`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.gitlab_fake.merge_requests import MergeRequest
from tests.gitlab_fake.state import now

if TYPE_CHECKING:
    from tests.gitlab_fake.server import FakeGitLab


@dataclass
class MrNote:
    """A merge request note as tests look at it."""

    id: int
    body: str
    author: int  # user id


def _find(fake: FakeGitLab, project: str, iid: int) -> MergeRequest | None:
    ns = fake.state.find(project, "project")
    mrs = fake.merge_requests.mrs
    return next((m for m in mrs if m.project is ns and m.iid == iid), None)


def open_merge_request(fake: FakeGitLab, project: str, iid: int) -> MergeRequest:
    """Make merge request ``!iid`` exist in ``project`` (no commits: notes only)."""
    fake.state.add_project(project)
    mr = _find(fake, project, iid)
    if mr is None:
        ns = fake.state.find(project, "project")
        assert ns is not None
        mr = MergeRequest(fake.state.next_id(), iid, ns, "Plan changes")
        fake.merge_requests.mrs.append(mr)
    return mr


def _notes(mr: MergeRequest) -> list[dict[str, Any]]:
    return [note for d in mr.discussions for note in d["notes"]]


def add_mr_note(fake: FakeGitLab, project: str, iid: int, body: str, author: int) -> MrNote:
    """A note written by ``author`` (a user id from ``fake.state.add_user``), for tests."""
    mr = open_merge_request(fake, project, iid)
    note = fake.merge_requests._note(mr, body, author, None, resolvable=False, resolved=False)
    mr.discussions.append({"id": str(note["id"]), "individual_note": True, "notes": [note]})
    return MrNote(note["id"], body, author)


def mr_notes(fake: FakeGitLab, project: str, iid: int) -> list[MrNote]:
    """The notes of a merge request, oldest first (for assertions)."""
    mr = open_merge_request(fake, project, iid)
    return [MrNote(n["id"], n["body"], n["author"]["id"]) for n in _notes(mr)]


def list_mr_notes(fake: FakeGitLab, q: Any, b: Any, ident: str, iid: str) -> Any:
    notes = [dict(n) for n in _notes(fake.merge_requests._mr(ident, iid))]
    desc = (q.get("sort") or ["desc"])[0] == "desc"  # GitLab's default order is desc
    return notes[::-1] if desc else notes


def update_mr_note(fake: FakeGitLab, q: Any, body: Any, ident: str, iid: str, nid: str) -> Any:
    from tests.gitlab_fake.server import HttpError

    fake._write_scope()
    note = next(
        (n for n in _notes(fake.merge_requests._mr(ident, iid)) if n["id"] == int(nid)), None
    )
    if note is None:
        raise HttpError(404, "404 Not found")
    if note["author"]["id"] != fake.state.me:
        raise HttpError(403, "403 Forbidden")
    text = str(body.get("body") or "")
    if not text:
        raise HttpError(400, "400 Bad request - body is missing")
    note["body"] = text
    note["updated_at"] = now()
    return dict(note)


def mr_note_routes(seg: str) -> list[tuple[str, re.Pattern[str], Any]]:
    """The routes above, for the fake's route table (``seg`` matches a project id or path);
    creating a note is :mod:`tests.gitlab_fake.merge_requests`' route."""
    base = rf"projects/{seg}/merge_requests/(\d+)/notes"
    return [
        ("GET", re.compile(base), list_mr_notes),
        ("PUT", re.compile(rf"{base}/(\d+)"), update_mr_note),
    ]
