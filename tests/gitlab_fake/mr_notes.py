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

Merge requests are opened for a test with :func:`open_merge_request`; these handlers keep their
notes apart from issue notes (``fake.state.notes`` keyed ``("merge_request", id)``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tests.gitlab_fake.state import Note, now

if TYPE_CHECKING:
    from tests.gitlab_fake.server import FakeGitLab


def open_merge_request(fake: FakeGitLab, project: str, iid: int) -> int:
    """Make merge request ``!iid`` exist in ``project``; returns its global id."""
    ns = fake.state.add_project(project)
    key = (ns.id, iid)
    registry = _registry(fake)
    if key not in registry:
        registry[key] = fake.state.next_id()
    return registry[key]


def add_mr_note(fake: FakeGitLab, project: str, iid: int, body: str, author: int) -> Note:
    """A note written by ``author`` (a user id from ``fake.state.add_user``), for tests."""
    mr_id = open_merge_request(fake, project, iid)
    note = Note(fake.state.next_id(), body, author)
    fake.state.notes.setdefault(("merge_request", mr_id), []).append(note)
    return note


def mr_notes(fake: FakeGitLab, project: str, iid: int) -> list[Note]:
    """The notes of a merge request, oldest first (for assertions)."""
    mr_id = open_merge_request(fake, project, iid)
    return list(fake.state.notes.get(("merge_request", mr_id), []))


def _registry(fake: FakeGitLab) -> dict[tuple[int, int], int]:
    registry = getattr(fake, "_merge_requests", None)
    if registry is None:
        registry = {}
        fake._merge_requests = registry  # type: ignore[attr-defined]
    return registry


def _mr(fake: FakeGitLab, ident: str, iid: str) -> tuple[int, int]:
    from tests.gitlab_fake.server import HttpError

    ns = fake.state.find(ident, "project")
    if ns is None:
        raise HttpError(404, "404 Project Not Found")
    mr_id = _registry(fake).get((ns.id, int(iid)))
    if mr_id is None:
        raise HttpError(404, "404 Not found")
    return mr_id, int(iid)


def _json(fake: FakeGitLab, note: Note, mr_id: int, iid: int) -> dict[str, Any]:
    data = fake.state.note_json(note)
    data.update(
        {
            "noteable_id": mr_id,
            "noteable_type": "MergeRequest",
            "noteable_iid": iid,
            "resolvable": False,
            "updated_at": getattr(note, "updated_at", note.created_at),
        }
    )
    return data


def list_mr_notes(fake: FakeGitLab, q: Any, b: Any, ident: str, iid: str) -> Any:
    mr_id, n = _mr(fake, ident, iid)
    notes = [_json(fake, x, mr_id, n) for x in fake.state.notes.get(("merge_request", mr_id), [])]
    desc = (q.get("sort") or ["desc"])[0] == "desc"  # GitLab's default order is desc
    return notes[::-1] if desc else notes


def create_mr_note(fake: FakeGitLab, q: Any, body: Any, ident: str, iid: str) -> Any:
    from tests.gitlab_fake.server import HttpError

    fake._write_scope()
    mr_id, n = _mr(fake, ident, iid)
    text = str(body.get("body") or "")
    if not text:
        raise HttpError(400, "400 Bad request - body is missing")
    note = Note(fake.state.next_id(), text, fake.state.me)
    fake.state.notes.setdefault(("merge_request", mr_id), []).append(note)
    return _json(fake, note, mr_id, n)


def update_mr_note(fake: FakeGitLab, q: Any, body: Any, ident: str, iid: str, nid: str) -> Any:
    from tests.gitlab_fake.server import HttpError

    fake._write_scope()
    mr_id, n = _mr(fake, ident, iid)
    note = next(
        (x for x in fake.state.notes.get(("merge_request", mr_id), []) if x.id == int(nid)), None
    )
    if note is None:
        raise HttpError(404, "404 Not found")
    if note.author != fake.state.me:
        raise HttpError(403, "403 Forbidden")
    text = str(body.get("body") or "")
    if not text:
        raise HttpError(400, "400 Bad request - body is missing")
    note.body = text
    note.updated_at = now()  # type: ignore[attr-defined]
    return _json(fake, note, mr_id, n)


def mr_note_routes(seg: str) -> list[tuple[str, re.Pattern[str], Any]]:
    """The routes above, for the fake's route table (``seg`` matches a project id or path)."""
    base = rf"projects/{seg}/merge_requests/(\d+)/notes"
    return [
        ("GET", re.compile(base), list_mr_notes),
        ("POST", re.compile(base), create_mr_note),
        ("PUT", re.compile(rf"{base}/(\d+)"), update_mr_note),
    ]
