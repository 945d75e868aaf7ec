"""A merge request's review data over GitLab's REST API: the MR, its discussions, diff
versions and diffs, file text at a commit, and new threads and notes.

Endpoints (GitLab's REST documentation):
- ``GET /projects/:id/merge_requests/:iid`` (``diff_refs``, ``web_url``, ``state``):
  https://docs.gitlab.com/api/merge_requests/#get-single-mr
- ``GET /projects/:id/merge_requests/:iid/discussions`` (paged):
  https://docs.gitlab.com/api/discussions/#list-project-merge-request-discussion-items
- ``POST /projects/:id/merge_requests/:iid/discussions`` with a ``position``:
  https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff
- ``POST /projects/:id/merge_requests/:iid/notes``: https://docs.gitlab.com/api/notes/#create-new-merge-request-note
- ``GET .../versions`` and ``.../versions/:version_id`` (newest first, with ``diffs``):
  https://docs.gitlab.com/api/merge_requests/#get-merge-request-diff-versions
- ``GET .../diffs`` (paged, GitLab 15.7+): https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs
- ``GET /projects/:id/repository/files/:file_path/raw?ref=`` :
  https://docs.gitlab.com/api/repository_files/#get-raw-file-from-repository
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from secplan.errors import NotFoundError
from secplan.refs import MergeRequestRef
from secplan.tracker.gitlab.client import GitLabClient, encode_path


class MergeRequestApi:
    """The review calls for one merge request. File texts are read once per (path, commit)."""

    def __init__(self, client: GitLabClient, ref: MergeRequestRef) -> None:
        self.client = client
        self.ref = ref
        self._base = f"projects/{encode_path(ref.project)}/merge_requests/{ref.iid}"
        self._files: dict[tuple[str, str], str | None] = {}
        self._mr: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        """The merge request (read once); a clear error when it is not there (or not
        visible to the token)."""
        if self._mr is None:
            data = self.client.get_or_none(self._base, what=f"merge request {self.ref}")
            if not isinstance(data, dict):
                raise NotFoundError(
                    f"merge request {self.ref} not found",
                    hint="Check the project path and number (the token must be able to see it).",
                )
            self._mr = data
        return self._mr

    def discussions(self) -> Iterator[dict[str, Any]]:
        """Every discussion, 100 per request."""
        yield from self.client.pages(f"{self._base}/discussions", what=f"discussions of {self.ref}")

    def versions(self) -> list[dict[str, Any]]:
        """The diff versions, newest first."""
        return list(self.client.pages(f"{self._base}/versions", what=f"versions of {self.ref}"))

    def version(self, version_id: int) -> dict[str, Any]:
        """One diff version with its ``diffs``."""
        data = self.client.get(
            f"{self._base}/versions/{int(version_id)}", what=f"version {version_id} of {self.ref}"
        )
        return data if isinstance(data, dict) else {}

    def diffs(self) -> list[dict[str, Any]]:
        """The latest version's file diffs."""
        return list(self.client.pages(f"{self._base}/diffs", what=f"diffs of {self.ref}"))

    def file_text(self, path: str, sha: str) -> str | None:
        """The file at ``path`` in commit ``sha``; None when it is not there."""
        key = (path, sha)
        if key not in self._files:
            project = encode_path(self.ref.project)
            try:
                _s, body, _h = self.client.request(
                    "GET",
                    f"projects/{project}/repository/files/{quote(path, safe='')}/raw",
                    params={"ref": sha},
                    what=f"file {path} at {sha[:12]}",
                    raw=True,
                )
            except NotFoundError:
                body = None
            self._files[key] = body if isinstance(body, str) else None
        return self._files[key]

    def create_discussion(self, body: str, position: dict[str, Any]) -> dict[str, Any]:
        """A new diff thread at ``position``."""
        _s, data, _h = self.client.request(
            "POST",
            f"{self._base}/discussions",
            json={"body": body, "position": position},
            what=f"start a thread on {self.ref}",
            pace="note",
            find_existing=lambda: self._find(body, discussion=True),
        )
        return data if isinstance(data, dict) else {}

    def create_note(self, body: str) -> dict[str, Any]:
        """A plain note on the merge request."""
        _s, data, _h = self.client.request(
            "POST",
            f"{self._base}/notes",
            json={"body": body},
            what=f"comment on {self.ref}",
            pace="note",
            find_existing=lambda: self._find(body, discussion=False),
        )
        return data if isinstance(data, dict) else {}

    def _find(self, body: str, *, discussion: bool) -> dict[str, Any] | None:
        """After a lost answer: the thread (or note) with exactly this body, if the request
        had gone through (the body carries a unique marker), so it is never posted twice."""
        for found in self.discussions():
            for note in found.get("notes") or []:
                if isinstance(note, dict) and note.get("body") == body:
                    return found if discussion else note
        return None
