"""``secplan plan --mr-note``: the plan's summary as ONE merge request note, kept up to date.

The note starts with a hidden marker (an HTML comment GitLab does not render). Each run lists
the merge request's notes (https://docs.gitlab.com/api/notes/#list-all-merge-request-notes),
takes the oldest non-system note by the token's own user that carries the marker, and changes
its body (``PUT .../notes/:note_id``, https://docs.gitlab.com/api/notes/#modify-existing-merge-request-note)
— or, the first time, creates it (``POST .../notes``,
https://docs.gitlab.com/api/notes/#create-new-merge-request-note). A body that is already right
is not sent again, so a re-run of the same pipeline notifies nobody.

The merge request comes from GitLab CI's predefined variables ``CI_PROJECT_ID`` and
``CI_MERGE_REQUEST_IID`` (https://docs.gitlab.com/ci/variables/predefined_variables/), the
instance from ``gitlab_url`` or ``CI_SERVER_URL``, the token from ``GITLAB_TOKEN`` or
``token_command``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secplan.errors import UsageError
from secplan.tracker.gitlab.client import GitLabClient, encode_path

MARKER = "<!-- secplan:plan-note -->"
#: GitLab refuses notes above 1,000,000 characters; stay well below.
MAX_BODY = 900_000

_CI_HINT = (
    "Run it in a merge request pipeline (rules: if $CI_PIPELINE_SOURCE == "
    '"merge_request_event"), or set CI_PROJECT_ID and CI_MERGE_REQUEST_IID.'
)


@dataclass(frozen=True)
class MergeRequest:
    """Which merge request the note goes on."""

    project: str  # numeric id or full path
    iid: int


@dataclass(frozen=True)
class NoteOutcome:
    """``created``, ``updated`` or ``unchanged``, and the note's id."""

    action: str
    note_id: int


def merge_request_from_env(env: Mapping[str, str] | None = None) -> MergeRequest:
    """The merge request of the current CI pipeline (a usage error outside of one)."""
    env = os.environ if env is None else env
    project = (env.get("CI_PROJECT_ID") or env.get("CI_MERGE_REQUEST_PROJECT_ID") or "").strip()
    iid = (env.get("CI_MERGE_REQUEST_IID") or "").strip()
    if not project or not iid:
        pairs = (("CI_PROJECT_ID", project), ("CI_MERGE_REQUEST_IID", iid))
        missing = [name for name, v in pairs if not v]
        raise UsageError(
            f"--mr-note needs a merge request: {' and '.join(missing)} not set", hint=_CI_HINT
        )
    if not iid.isdigit():
        raise UsageError(f"CI_MERGE_REQUEST_IID {iid!r} is not a number", hint=_CI_HINT)
    return MergeRequest(project, int(iid))


def gitlab_url_for_note(config: Any, env: Mapping[str, str] | None = None) -> str:
    """``gitlab_url`` from the configuration, else the pipeline's ``CI_SERVER_URL``."""
    env = os.environ if env is None else env
    url = getattr(config, "gitlab_url", None) or env.get("CI_SERVER_URL")
    if not url:
        raise UsageError(
            "--mr-note needs the GitLab instance: no gitlab_url and no CI_SERVER_URL",
            hint='Add `gitlab_url = "https://gitlab.example.com"` to secplan.toml.',
        )
    return str(url)


def _fence(lines: Sequence[str]) -> str:
    """A backtick fence longer than any run of backticks in the text (plan text is hostile)."""
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def note_body(lines: Sequence[str], *, commit: str | None = None) -> str:
    """The note: marker, the summary line, and the full plan output in a collapsed block."""
    # GitLab runs a note's lines that start with "/" as quick actions (/close, /merge ...);
    # its extractor skips only plain ``` blocks, so such a line is indented instead.
    text_lines = [f" {ln}" if ln.startswith("/") else ln for ln in lines]
    summary = next((ln for ln in reversed(text_lines) if ln.startswith("Plan:")), "")
    fence = _fence(text_lines)
    body_text = "\n".join(text_lines)
    if len(body_text) > MAX_BODY:
        body_text = body_text[:MAX_BODY] + "\n... (cut: run `secplan plan` for the rest)"
    at = f" at {commit}" if commit else ""
    parts = [
        MARKER,
        f"**secplan plan**{at}: {summary.removeprefix('Plan: ') or 'no changes'}",
        "",
        "<details><summary>What apply would change</summary>",
        "",
        f"{fence}text",
        body_text,
        fence,
        "",
        "</details>",
        "",
        "_This note is updated by `secplan plan --mr-note` on every push._",
    ]
    return "\n".join(parts) + "\n"


def _ours(note: Any, user_id: Any) -> bool:
    return (
        isinstance(note, dict)
        and not note.get("system")
        and MARKER in str(note.get("body") or "")
        and (note.get("author") or {}).get("id") == user_id
    )


def upsert_note(client: GitLabClient, mr: MergeRequest, body: str) -> NoteOutcome:
    """Create secplan's note on ``mr``, or update the one an earlier run made."""
    path = f"projects/{encode_path(mr.project)}/merge_requests/{mr.iid}/notes"
    me = client.get("user", what="the token's user")
    user_id = me.get("id") if isinstance(me, dict) else None

    def find() -> Any:
        params = {"sort": "asc", "order_by": "created_at"}
        notes = client.pages(path, params, what="merge request notes")
        return next((n for n in notes if _ours(n, user_id)), None)

    existing = find()
    if existing is not None:
        if existing.get("body") == body:
            return NoteOutcome("unchanged", int(existing["id"]))
        _s, data, _h = client.request(
            "PUT",
            f"{path}/{existing['id']}",
            json={"body": body},
            what=f"update the plan note on merge request !{mr.iid}",
            role="Reporter",
            safe=True,  # the same PUT twice leaves the same note
            pace="note",
        )
        return NoteOutcome("updated", int(data.get("id", existing["id"])))
    _s, data, _h = client.request(
        "POST",
        path,
        json={"body": body},
        what=f"add the plan note to merge request !{mr.iid}",
        role="Reporter",
        find_existing=find,  # a lost answer: look for the note before sending it again
        pace="note",
    )
    return NoteOutcome("created", int(data["id"]))


def post_plan_note(
    config: Any, lines: Sequence[str], env: Mapping[str, str] | None = None
) -> NoteOutcome:
    """Put ``lines`` (the text of ``secplan plan``) on the pipeline's merge request."""
    from secplan.tracker.gitlab.token import resolve_token

    env = os.environ if env is None else env
    mr = merge_request_from_env(env)
    url = gitlab_url_for_note(config, env)
    token = resolve_token(getattr(config, "token_command", None), env)
    client = GitLabClient(url, token)
    try:
        body = note_body(lines, commit=env.get("CI_COMMIT_SHORT_SHA") or None)
        return upsert_note(client, mr, body)
    finally:
        client.close()
