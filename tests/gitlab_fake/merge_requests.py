"""Merge requests in the fake GitLab: commits as file snapshots, diff versions, diffs,
discussions, notes and raw files, in GitLab's documented shapes.

Shapes and where they are documented:
- merge request (``diff_refs`` = ``{base_sha, head_sha, start_sha}``, ``web_url``, ``state``
  opened/merged/closed): https://docs.gitlab.com/api/merge_requests/#get-single-mr
- diff versions, newest first (``id``, ``head_commit_sha``, ``base_commit_sha``,
  ``start_commit_sha``, ``created_at``, ``merge_request_id``, ``state`` "collected",
  ``real_size``); one version adds ``commits`` and ``diffs``:
  https://docs.gitlab.com/api/merge_requests/#get-merge-request-diff-versions
- diffs (``old_path``, ``new_path``, ``a_mode``, ``b_mode``, ``diff`` = hunks without the
  ``---``/``+++`` header, ``new_file``, ``renamed_file``, ``deleted_file``), paged:
  https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs
- discussions (``id`` a 40-hex string, ``individual_note``, ``notes`` with ``type``
  "DiffNote" or null, ``position`` {base_sha, start_sha, head_sha, old_path, new_path,
  position_type "text", old_line, new_line}, ``resolvable``, ``resolved``, ``resolved_by``),
  paged: https://docs.gitlab.com/api/discussions/#list-project-merge-request-discussion-items
- creating a diff thread: the position must name a line of the diff: an added line
  ``new_line`` only, a removed line ``old_line`` only, an unchanged line both
  (https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff);
  a line outside the diff is refused with ``400`` and the note's ``line_code`` errors
  (as reported in https://gitlab.com/gitlab-org/gitlab/-/issues/219215)
- a merge request note: https://docs.gitlab.com/api/notes/#create-new-merge-request-note
- raw file: ``GET /projects/:id/repository/files/:file_path/raw?ref=`` answers the bytes,
  ``404 {"message": "404 File Not Found"}`` when absent:
  https://docs.gitlab.com/api/repository_files/#get-raw-file-from-repository
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.gitlab_fake.state import Namespace, now

if TYPE_CHECKING:
    from tests.gitlab_fake.server import FakeGitLab


class RawText(str):
    """A handler's answer sent as ``text/plain`` bytes, not JSON (a raw file)."""


@dataclass
class MrVersion:
    id: int
    head_sha: str
    base_sha: str
    start_sha: str
    diffs: list[dict[str, Any]]
    created_at: str = field(default_factory=now)


@dataclass
class MergeRequest:
    id: int
    iid: int
    project: Namespace
    title: str
    versions: list[MrVersion] = field(default_factory=list)  # oldest first
    discussions: list[dict[str, Any]] = field(default_factory=list)
    state: str = "opened"


def file_diff(old_path: str, new_path: str, old: str | None, new: str | None) -> dict[str, Any]:
    """One element of GitLab's ``diffs``: ``git diff``'s hunks for the file."""
    a = [] if old is None else old.split("\n")
    b = [] if new is None else new.split("\n")
    # GitLab diffs files by lines; a trailing newline is not a line of its own
    if a and a[-1] == "":
        a.pop()
    if b and b[-1] == "":
        b.pop()
    hunks = list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]
    return {
        "old_path": old_path,
        "new_path": new_path,
        "a_mode": "0" if old is None else "100644",
        "b_mode": "0" if new is None else "100644",
        "diff": "\n".join(hunks) + ("\n" if hunks else ""),
        "new_file": old is None,
        "renamed_file": old is not None and new is not None and old_path != new_path,
        "deleted_file": new is None,
        "generated_file": False,
    }


class MergeRequests:
    """The merge request part of one fake instance (its data and REST handlers)."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.commits: dict[str, dict[str, str]] = {}  # sha -> path -> text
        self.mrs: list[MergeRequest] = []

    # -- test controls ------------------------------------------------------------------

    def commit(self, files: dict[str, str]) -> str:
        """Store a snapshot of the repository; its sha."""
        sha = hashlib.sha1(json.dumps(files, sort_keys=True).encode()).hexdigest()
        self.commits[sha] = dict(files)
        return sha

    def open(
        self,
        project: str,
        base: dict[str, str],
        head: dict[str, str],
        *,
        renames: dict[str, str] | None = None,
        title: str = "Plan changes",
    ) -> MergeRequest:
        """A merge request from a branch with ``head`` into one with ``base``; ``renames`` maps
        new path -> old path."""
        ns = self.fake.state.find(project, "project")
        assert ns is not None, project
        mr = MergeRequest(self.fake.state.next_id(), self._next_iid(ns), ns, title)
        base_sha = self.commit(base)
        self.mrs.append(mr)
        self._add_version(mr, base_sha, head, renames or {})
        return mr

    def push(
        self, mr: MergeRequest, head: dict[str, str], *, renames: dict[str, str] | None = None
    ) -> MrVersion:
        """A new push to the source branch: a new diff version over the same base."""
        return self._add_version(mr, mr.versions[-1].base_sha, head, renames or {})

    def add_thread(
        self,
        mr: MergeRequest,
        body: str,
        *,
        author: str = "alice",
        version: MrVersion | None = None,
        new_path: str | None = None,
        old_path: str | None = None,
        new_line: int | None = None,
        old_line: int | None = None,
        resolved: bool = False,
        replies: list[str] | None = None,
    ) -> dict[str, Any]:
        """A reviewer's diff thread (on ``version``, default the latest), as GitLab keeps it."""
        v = version or mr.versions[-1]
        position = {
            "base_sha": v.base_sha,
            "start_sha": v.start_sha,
            "head_sha": v.head_sha,
            "old_path": old_path or new_path,
            "new_path": new_path or old_path,
            "position_type": "text",
            "old_line": old_line,
            "new_line": new_line,
            "line_range": None,
        }
        uid = self._user(author)
        notes = [self._note(mr, body, uid, position, resolvable=True, resolved=resolved)]
        for reply in replies or []:
            notes.append(self._note(mr, reply, uid, position, resolvable=True, resolved=resolved))
        discussion = {"id": self._discussion_id(), "individual_note": False, "notes": notes}
        mr.discussions.append(discussion)
        return discussion

    def add_comment(
        self, mr: MergeRequest, body: str, *, author: str = "bob", system: bool = False
    ) -> None:
        """A general comment (not on the diff), or a system note."""
        note = self._note(mr, body, self._user(author), None, resolvable=False, resolved=False)
        note["system"] = system
        mr.discussions.append(
            {"id": self._discussion_id(), "individual_note": True, "notes": [note]}
        )

    # -- shapes -------------------------------------------------------------------------

    def _next_iid(self, ns: Namespace) -> int:
        return 1 + sum(1 for m in self.mrs if m.project is ns)

    def _user(self, username: str) -> int:
        state = self.fake.state
        found = next((u for u, d in state.users.items() if d["username"] == username), None)
        return found if found is not None else state.add_user(username)

    def _discussion_id(self) -> str:
        return hashlib.sha1(str(self.fake.state.next_id()).encode()).hexdigest()

    def _note(
        self,
        mr: MergeRequest,
        body: str,
        uid: int,
        position: dict[str, Any] | None,
        *,
        resolvable: bool,
        resolved: bool,
    ) -> dict[str, Any]:
        return {
            "id": self.fake.state.next_id(),
            "type": "DiffNote" if position else None,
            "body": body,
            "attachment": None,
            "author": self.fake.state.user_json(uid),
            "created_at": now(),
            "updated_at": now(),
            "system": False,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "noteable_iid": mr.iid,
            "commit_id": None,
            "position": position,
            "resolvable": resolvable,
            "resolved": resolved if resolvable else False,
            "resolved_by": None,
            "resolved_at": None,
        }

    def _add_version(
        self, mr: MergeRequest, base_sha: str, head: dict[str, str], renames: dict[str, str]
    ) -> MrVersion:
        base = self.commits[base_sha]
        head_sha = self.commit(head)
        diffs = []
        renamed_from = set(renames.values())
        for path in sorted(set(base) | set(head)):
            if path in renamed_from and path not in head:
                continue  # shown as the rename below
            old_path = renames.get(path, path)
            old, new = base.get(old_path), head.get(path)
            if old != new or old_path != path:
                diffs.append(file_diff(old_path, path, old, new))
        version = MrVersion(self.fake.state.next_id(), head_sha, base_sha, base_sha, diffs)
        mr.versions.append(version)
        return version

    def mr_json(self, mr: MergeRequest) -> dict[str, Any]:
        v = mr.versions[-1]
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project.id,
            "title": mr.title,
            "state": mr.state,
            "source_branch": "plan-changes",
            "target_branch": "main",
            "sha": v.head_sha,
            "web_url": f"{self.fake.url}/{mr.project.full_path}/-/merge_requests/{mr.iid}",
            "diff_refs": {"base_sha": v.base_sha, "head_sha": v.head_sha, "start_sha": v.start_sha},
            "references": {"full": f"{mr.project.full_path}!{mr.iid}"},
        }

    def version_json(self, mr: MergeRequest, v: MrVersion, *, detail: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": v.id,
            "head_commit_sha": v.head_sha,
            "base_commit_sha": v.base_sha,
            "start_commit_sha": v.start_sha,
            "created_at": v.created_at,
            "merge_request_id": mr.id,
            "state": "collected",
            "real_size": str(len(v.diffs)),
        }
        if detail:
            data["commits"] = [{"id": v.head_sha, "short_id": v.head_sha[:8], "title": "Push"}]
            data["diffs"] = [dict(d) for d in v.diffs]
        return data

    # -- REST handlers --------------------------------------------------------------------

    def _mr(self, ident: str, iid: str) -> MergeRequest:
        ns = self.fake._project(ident)
        mr = next((m for m in self.mrs if m.project is ns and m.iid == int(iid)), None)
        if mr is None:
            from tests.gitlab_fake.server import HttpError

            raise HttpError(404, "404 Not found")
        return mr

    def get_mr(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        return self.mr_json(self._mr(ident, iid))

    def list_versions(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        mr = self._mr(ident, iid)
        return [self.version_json(mr, v, detail=False) for v in reversed(mr.versions)]

    def get_version(self, q: Any, b: Any, ident: str, iid: str, vid: str) -> Any:
        from tests.gitlab_fake.server import HttpError

        mr = self._mr(ident, iid)
        v = next((v for v in mr.versions if v.id == int(vid)), None)
        if v is None:
            raise HttpError(404, "404 Not found")
        return self.version_json(mr, v, detail=True)

    def list_diffs(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        return [dict(d) for d in self._mr(ident, iid).versions[-1].diffs]

    def list_discussions(self, q: Any, b: Any, ident: str, iid: str) -> Any:
        return json.loads(json.dumps(self._mr(ident, iid).discussions))

    def create_discussion(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        from tests.gitlab_fake.server import HttpError

        self.fake._write_scope()
        mr = self._mr(ident, iid)
        text = str(body.get("body") or "")
        if not text:
            raise HttpError(400, "400 Bad request - body is missing")
        position = body.get("position")
        if position is not None:
            self._check_position(mr, position)
        uid = self.fake.state.me
        note = self._note(mr, text, uid, position, resolvable=True, resolved=False)
        discussion = {"id": self._discussion_id(), "individual_note": False, "notes": [note]}
        mr.discussions.append(discussion)
        return discussion

    def create_note(self, q: Any, body: Any, ident: str, iid: str) -> Any:
        from tests.gitlab_fake.server import HttpError

        self.fake._write_scope()
        mr = self._mr(ident, iid)
        text = str(body.get("body") or "")
        if not text:
            raise HttpError(400, "400 Bad request - body is missing")
        note = self._note(mr, text, self.fake.state.me, None, resolvable=False, resolved=False)
        mr.discussions.append(
            {"id": self._discussion_id(), "individual_note": True, "notes": [note]}
        )
        return note

    def _check_position(self, mr: MergeRequest, p: dict[str, Any]) -> None:
        from tests.gitlab_fake.server import HttpError

        invalid = HttpError(
            400,
            '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line '
            'code"], :position=>["is incomplete"]}',
        )
        if p.get("position_type") != "text":
            raise invalid
        v = next((v for v in mr.versions if v.head_sha == p.get("head_sha")), None)
        if v is None or p.get("base_sha") != v.base_sha or p.get("start_sha") != v.start_sha:
            raise invalid
        d = next((d for d in v.diffs if d["new_path"] == p.get("new_path")), None)
        if d is None or d["old_path"] != p.get("old_path"):
            raise invalid
        from secplan.review.diff import parse_file_diff

        fd = parse_file_diff(d)
        new, old = p.get("new_line"), p.get("old_line")
        if new is not None and old is None and fd.new_kind(int(new)) == "added":
            return
        if new is None and old is not None and fd.old_kind(int(old)) == "removed":
            return
        if (
            new is not None
            and old is not None
            and fd.new_kind(int(new)) == "unchanged"
            and fd.context_new_to_old.get(int(new)) == int(old)
        ):
            return
        raise invalid

    def raw_file(self, q: Any, b: Any, ident: str, path: str) -> Any:
        from tests.gitlab_fake.server import HttpError, _one

        self.fake._project(ident)
        files = self.commits.get(_one(q, "ref") or "")
        if files is None or path not in files:
            raise HttpError(404, "404 File Not Found")
        return 200, RawText(files[path]), {}


_SEG = r"([^/]+(?:/[^/]+)*?)"
_MR = rf"projects/{_SEG}/merge_requests/(\d+)"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", rf"{_MR}/versions/(\d+)", "get_version"),
    ("GET", rf"{_MR}/versions", "list_versions"),
    ("GET", rf"{_MR}/diffs", "list_diffs"),
    ("GET", rf"{_MR}/discussions", "list_discussions"),
    ("POST", rf"{_MR}/discussions", "create_discussion"),
    ("POST", rf"{_MR}/notes", "create_note"),
    ("GET", _MR, "get_mr"),
    ("GET", rf"projects/{_SEG}/repository/files/(.+)/raw", "raw_file"),
]
