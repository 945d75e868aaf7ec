"""A merge request's discussions on plan files, each mapped to plan, section and line; and new
threads on a section's heading.

:func:`collect_threads` reads the merge request (through any object with the methods of
:class:`secplan.tracker.gitlab.merge_requests.MergeRequestApi`), places each diff note with
:mod:`secplan.review.positions` and finds its section in the plan text at that commit.
:func:`request_review` starts a diff thread on a heading, or a plain note when the heading is
outside the diff. :func:`mr_threads_for_plan` gives the web the cached threads of one plan.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote, unquote

from secplan.markdown import parse_plan
from secplan.model import Plan
from secplan.review.cache import read_cache, write_entry
from secplan.review.diff import FileDiff, find_diff, parse_file_diff
from secplan.review.positions import (
    DiffPosition,
    Placed,
    Version,
    place,
    plan_id_for,
    section_at,
)

#: The hidden line a note of ``secplan review request`` carries: which section it is about
#: (plain notes have no position), and a nonce so a lost answer is found, not posted twice.
_MARKER = re.compile(
    r"<!-- secplan:review plan=(?P<plan>[^\s>]+) anchor=(?P<anchor>[^\s>]*) "
    r"id=(?P<id>[0-9a-f]+) -->"
)


class MergeRequestSource(Protocol):
    """What :func:`collect_threads` and :func:`request_review` read and write."""

    def get(self) -> dict[str, Any]: ...
    def discussions(self) -> Iterable[dict[str, Any]]: ...
    def versions(self) -> list[dict[str, Any]]: ...
    def version(self, version_id: int) -> dict[str, Any]: ...
    def diffs(self) -> list[dict[str, Any]]: ...
    def file_text(self, path: str, sha: str) -> str | None: ...
    def create_discussion(self, body: str, position: dict[str, Any]) -> dict[str, Any]: ...
    def create_note(self, body: str) -> dict[str, Any]: ...


@dataclass
class MrThread:
    """One discussion on a plan file. ``line`` is in ``file`` at ``commit``: the latest head
    for ``side`` new, the base for ``side`` old (a removed line); when ``outdated`` the line
    could not be carried to the latest version and names the position's own commit."""

    id: str
    url: str
    plan: str
    file: str
    line: int | None
    side: Literal["new", "old"] | None
    commit: str | None
    anchor: str | None
    section: str | None
    outdated: bool
    resolved: bool
    resolvable: bool
    author: str
    body: str
    replies: int
    kind: Literal["diff", "note"] = "diff"


@dataclass
class MrReview:
    """Everything ``review comments`` reports on one merge request."""

    ref: str
    web_url: str
    state: str
    head_sha: str
    threads: list[MrThread] = field(default_factory=list)
    #: discussions not on a plan file (other files, general comments); system notes not counted
    skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        """The stable JSON of ``review comments --format json`` (and of the cache entry)."""
        return {
            "merge_request": self.ref,
            "web_url": self.web_url,
            "state": self.state,
            "head_sha": self.head_sha,
            "threads": [asdict(t) for t in self.threads],
            "open": sum(1 for t in self.threads if t.resolvable and not t.resolved),
            "skipped": self.skipped,
        }


def repo_prefix(root: Path) -> str:
    """The handbook's folder inside its Git repository ("" at the top; also without Git)."""
    root = root.resolve()
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return root.relative_to(folder).as_posix().strip(".").strip("/")
    return ""


class _Texts:
    """Plan texts and parsed plans by (path, commit), read once."""

    def __init__(self, source: MergeRequestSource, prefix: str, flavour: str) -> None:
        self.source, self.prefix, self.flavour = source, prefix, flavour
        self._plans: dict[tuple[str, str], Plan | None] = {}

    def plan(self, path: str, sha: str) -> Plan | None:
        key = (path, sha)
        if key not in self._plans:
            text = self.source.file_text(path, sha) if sha else None
            pid = plan_id_for(path, self.prefix)
            self._plans[key] = (
                None
                if text is None or pid is None
                else parse_plan(text, plan_id=pid, rel_path=path, flavour=self.flavour)
            )
        return self._plans[key]


def _author(note: dict[str, Any]) -> str:
    author = note.get("author")
    return str(author.get("username") or "") if isinstance(author, dict) else ""


def _resolution(notes: list[dict[str, Any]]) -> tuple[bool, bool]:
    """(resolvable, resolved) of a discussion, as GitLab shows it: resolved once every
    resolvable note is."""
    resolvable = [n for n in notes if n.get("resolvable")]
    return bool(resolvable), bool(resolvable) and all(n.get("resolved") for n in resolvable)


def collect_threads(
    source: MergeRequestSource, ref: str, *, prefix: str = "", flavour: str = "gitlab"
) -> MrReview:
    """The merge request's discussions on plan files of the handbook at ``prefix``."""
    mr = source.get()
    refs = mr.get("diff_refs") or {}
    versions = source.versions()
    if versions:
        latest = Version.from_json(versions[0])
    else:  # an instance without versions (or an empty MR): diff_refs are the latest version
        latest = Version(
            0, str(refs.get("head_sha") or ""), str(refs.get("base_sha") or ""),
            str(refs.get("start_sha") or ""),
        )  # fmt: skip
    web_url = str(mr.get("web_url") or "")
    review = MrReview(ref, web_url, str(mr.get("state") or "opened"), latest.head_sha)
    texts = _Texts(source, prefix, flavour)
    diffs: list[FileDiff] | None = None

    def latest_diffs() -> list[FileDiff]:
        nonlocal diffs
        if diffs is None:
            raw = source.version(latest.id).get("diffs") if latest.id else source.diffs()
            diffs = [parse_file_diff(d) for d in raw or [] if isinstance(d, dict)]
        return diffs

    for discussion in source.discussions():
        raw_notes = discussion.get("notes") if isinstance(discussion, dict) else None
        notes = [n for n in raw_notes or [] if isinstance(n, dict)]
        if not notes or notes[0].get("system"):
            continue
        first = notes[0]
        resolvable, resolved = _resolution(notes)
        common = {
            "id": str(discussion.get("id") or ""),
            "url": f"{web_url}#note_{first.get('id')}",
            "resolved": resolved,
            "resolvable": resolvable,
            "author": _author(first),
            "body": str(first.get("body") or ""),
            "replies": len(notes) - 1,
        }
        position = first.get("position")
        pos = DiffPosition.from_json(position) if isinstance(position, dict) else None
        if pos is not None:
            if (
                plan_id_for(pos.new_path, prefix) is None
                and plan_id_for(pos.old_path, prefix) is None
            ):
                review.skipped += 1  # not a plan: nothing to read
                continue
            needs_diffs = pos.head_sha != latest.head_sha or pos.new_line is None
            now_diffs = latest_diffs() if needs_diffs else []
            placed = place(pos, latest, now_diffs, source.file_text)
            thread = _diff_thread(placed, texts, prefix, common, now_diffs)
        else:
            thread = _note_thread(common, texts, latest, prefix)
        if thread is None:
            review.skipped += 1
        else:
            review.threads.append(thread)
    review.threads.sort(key=lambda t: (t.plan, t.line or 0, t.outdated, t.side or "", t.id))
    return review


def _diff_thread(
    placed: Placed, texts: _Texts, prefix: str, common: dict[str, Any], diffs: list[FileDiff]
) -> MrThread | None:
    path = placed.path
    if placed.side == "old":
        # a removed line of a renamed plan belongs to the plan under its new name
        fd = find_diff(diffs, old_path=placed.path)
        if fd is not None and not fd.deleted_file:
            path = fd.new_path
    pid = plan_id_for(path, prefix)
    if pid is None:
        return None
    plan = texts.plan(placed.path, placed.commit)
    section = section_at(plan, placed.line) if plan is not None else None
    return MrThread(
        plan=pid,
        file=placed.path,
        line=placed.line,
        side=placed.side,
        commit=placed.commit,
        anchor=section.anchor if section else None,
        section=section.title if section else None,
        outdated=placed.outdated,
        **common,
    )


def _note_thread(
    common: dict[str, Any], texts: _Texts, latest: Version, prefix: str
) -> MrThread | None:
    """A plain note ``review request`` posted for a heading outside the diff."""
    m = _MARKER.search(common["body"])
    if m is None:
        return None
    pid, anchor = unquote(m["plan"]), unquote(m["anchor"]) or None
    path = _path_of(pid, prefix, texts, latest.head_sha)
    plan = texts.plan(path, latest.head_sha) if path else None
    section = plan.section(anchor) if plan is not None else None
    return MrThread(
        plan=pid,
        file=path or "",
        line=section.line if section else None,
        side="new" if section else None,
        commit=latest.head_sha if section else None,
        anchor=anchor,
        section=section.title if section else None,
        outdated=section is None,
        kind="note",
        **common,
    )


def _path_of(pid: str, prefix: str, texts: _Texts, sha: str) -> str | None:
    """The repository path of plan ``pid`` at ``sha`` (the file name forms a plan id can have)."""
    base = f"{prefix}/{pid}" if prefix else pid
    for path in (f"{base}.md", f"{base}.html.md", f"{base}/index.md", f"{base}/index.html.md"):
        if texts.plan(path, sha) is not None:
            return path
    return None


# -- review request -------------------------------------------------------------------------


@dataclass
class Requested:
    """What ``review request`` made: a diff thread, or a plain note when the heading is
    outside the diff."""

    kind: Literal["diff", "note"]
    url: str
    line: int


def marker(plan: str, anchor: str, nonce: str | None = None) -> str:
    """The hidden line of a requested review (see :data:`_MARKER`)."""
    # quoted: a plan id is a file path and may hold spaces or ">"
    plan, anchor = quote(plan, safe="/"), quote(anchor, safe="")
    return f"<!-- secplan:review plan={plan} anchor={anchor} id={nonce or uuid.uuid4().hex} -->"


def request_review(
    source: MergeRequestSource, *, repo_path: str, plan: Plan, anchor: str, text: str
) -> Requested:
    """Start a thread on the heading of ``plan``'s section ``anchor`` (``plan`` parsed from the
    file as the merge request's head has it, at ``repo_path``)."""
    section = plan.section(anchor)
    assert section is not None  # the caller checked the anchor
    mr = source.get()
    refs = mr.get("diff_refs") or {}
    web_url = str(mr.get("web_url") or "")
    body = f"{text}\n\n{marker(plan.id, anchor)}"
    fd = find_diff([parse_file_diff(d) for d in source.diffs()], new_path=repo_path)
    kind = fd.new_kind(section.line) if fd is not None else "outside"
    if kind != "outside" and fd is not None and refs.get("head_sha"):
        position: dict[str, Any] = {
            "position_type": "text",
            "base_sha": refs.get("base_sha"),
            "start_sha": refs.get("start_sha"),
            "head_sha": refs.get("head_sha"),
            "old_path": fd.old_path,
            "new_path": fd.new_path,
            "new_line": section.line,
        }
        if kind == "unchanged":  # an unchanged line names both sides; an added one only new
            position["old_line"] = fd.new_to_old(section.line)
        made = source.create_discussion(body, position)
        notes = made.get("notes") or [{}]
        return Requested("diff", f"{web_url}#note_{notes[0].get('id')}", section.line)
    link = f"{web_url}/diffs" if web_url else ""
    note_body = (
        f"{text}\n\nOn [`{plan.id}#{anchor}`]({link}) ({section.title}, line {section.line}; "
        f"the heading is outside this merge request's changes).\n\n{marker(plan.id, anchor)}"
    )
    note = source.create_note(note_body)
    return Requested("note", f"{web_url}#note_{note.get('id')}", section.line)


# -- for the web ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionThread:
    """A cached merge request thread as a plan page shows it."""

    merge_request: str
    anchor: str | None
    line: int | None
    author: str
    body: str
    resolved: bool
    outdated: bool
    url: str


def mr_threads_for_plan(
    root: Path, plan_id: str, entries: Mapping[str, dict[str, Any]] | None = None
) -> dict[str | None, list[SectionThread]]:
    """Section anchor (None: above the first heading, or unknown) -> the merge request threads
    on plan ``plan_id`` that ``review comments`` cached, open merge requests first. Reads one
    JSON file; no GitLab. ``body`` is the reviewer's Markdown as written: sanitise it (nh3)
    before it reaches a page. ``entries``: the cache as already read (else it is read)."""
    out: dict[str | None, list[SectionThread]] = {}
    cached = read_cache(root) if entries is None else entries
    ordered = sorted(cached.items(), key=lambda kv: (kv[1].get("state") != "opened", kv[0]))
    for ref, entry in ordered:
        for t in entry.get("threads") or []:
            if not isinstance(t, dict) or t.get("plan") != plan_id:
                continue
            out.setdefault(t.get("anchor"), []).append(
                SectionThread(
                    merge_request=ref,
                    anchor=t.get("anchor"),
                    line=t.get("line"),
                    author=str(t.get("author") or ""),
                    body=str(t.get("body") or ""),
                    resolved=bool(t.get("resolved")),
                    outdated=bool(t.get("outdated")),
                    url=str(t.get("url") or ""),
                )
            )
    return out


def save_review(root: Path, review: MrReview) -> Path:
    """Cache ``review`` for ``secplan check`` and the web."""
    entry = review.to_json()
    entry["fetched_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return write_entry(root, review.ref, entry)


def mr_open_counts_for_plan(
    root: Path, plan_id: str, entries: Mapping[str, dict[str, Any]] | None = None
) -> dict[str | None, int]:
    """Section anchor -> unresolved merge request threads on it (for the counts on a plan
    page's headings); the same threads SP501 counts, merged and closed merge requests left
    out. ``entries``: the cache as already read (else it is read)."""
    counts: dict[str | None, int] = {}
    for entry in (read_cache(root) if entries is None else entries).values():
        if entry.get("state", "opened") != "opened":
            continue
        for t in entry.get("threads") or []:
            if not isinstance(t, dict) or t.get("plan") != plan_id:
                continue
            if t.get("resolvable", True) and not t.get("resolved"):
                counts[t.get("anchor")] = counts.get(t.get("anchor"), 0) + 1
    return counts
