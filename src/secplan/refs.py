"""GitLab reference syntax: issues ``group/project#12``, epics ``group/sub&16``, and their URLs.

Plans, the local tracker and GitLab all speak this syntax, so it lives in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_PATH = r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.\-]*)*"
_ISSUE_REF = re.compile(rf"^(?P<path>{_PATH})#(?P<iid>\d+)$")
_EPIC_REF = re.compile(rf"^(?P<path>{_PATH})&(?P<iid>\d+)$")
# A project's issue or work item; ``groups/`` starts a group's URL (GitLab reserves the name).
_ISSUE_URL = re.compile(
    rf"^https?://[^/\s]+/(?!groups/)(?P<path>{_PATH})/-/(?:issues|work_items)/(?P<iid>\d+)/?"
    r"(?:[#?].*)?$"
)
# A group's epic: the legacy epics URL, or the work item URL GitLab uses for epics since 17.x.
_EPIC_URL = re.compile(
    rf"^https?://[^/\s]+/groups/(?P<path>{_PATH})/-/(?:epics|work_items)/(?P<iid>\d+)/?"
    r"(?:[#?].*)?$"
)


#: The largest issue or epic number: GitLab's (and the store's) iid column is a 32-bit integer,
#: so a larger number is not a reference at all and never reaches a database.
MAX_IID = 2**31 - 1


def _iid(digits: str) -> int | None:
    # Checked on the digits first: int() of thousands of digits is slow or refused outright.
    if len(digits) > len(str(MAX_IID)):
        return None
    value = int(digits)
    return value if value <= MAX_IID else None


def iid_too_large(text: str) -> bool:
    """Whether ``text`` looks like a reference whose number is above :data:`MAX_IID` (for a
    clearer message than "not a reference")."""
    m = re.search(r"[#&](\d+)\s*$", text) or re.search(r"/(\d+)/?(?:[#?].*)?$", text)
    return m is not None and _iid(m.group(1)) is None


@dataclass(frozen=True)
class Ref:
    """A parsed reference. ``path`` is the project (issues) or group (epics) full path."""

    kind: Literal["issue", "epic"]
    path: str
    iid: int

    def __str__(self) -> str:
        sep = "#" if self.kind == "issue" else "&"
        return f"{self.path}{sep}{self.iid}"

    @property
    def group(self) -> str:
        """The group an issue's project lives in (the path itself for an epic)."""
        return (
            self.path.rsplit("/", 1)[0] if self.kind == "issue" and "/" in self.path else self.path
        )


def parse_issue_ref(text: str, default_project: str | None = None) -> Ref | None:
    """``group/project#12``, ``#12`` (needs ``default_project``) or an issue URL; else None."""
    text = text.strip()
    if default_project and re.fullmatch(r"#\d+", text):
        iid = _iid(text[1:])
        return Ref("issue", default_project, iid) if iid is not None else None
    m = _ISSUE_REF.match(text) or _ISSUE_URL.match(text)
    iid = _iid(m["iid"]) if m else None
    return Ref("issue", m["path"], iid) if m and iid is not None else None


def parse_epic_ref(text: str, default_group: str | None = None) -> Ref | None:
    """``group/sub&16``, ``&16`` (needs ``default_group``) or an epic URL; else None."""
    text = text.strip()
    if default_group and re.fullmatch(r"&\d+", text):
        iid = _iid(text[1:])
        return Ref("epic", default_group, iid) if iid is not None else None
    m = _EPIC_REF.match(text) or _EPIC_URL.match(text)
    iid = _iid(m["iid"]) if m else None
    return Ref("epic", m["path"], iid) if m and iid is not None else None


def parse_ref(text: str) -> Ref | None:
    """An issue or epic reference or URL, whichever it is; None if it is neither."""
    return parse_issue_ref(text) or parse_epic_ref(text)


_MR_REF = re.compile(rf"^(?P<path>{_PATH})!(?P<iid>\d+)$")
# A merge request page, or one of its tabs (``/diffs``, ``/commits``), with a fragment or query.
_MR_URL = re.compile(
    rf"^https?://[^/\s]+/(?!groups/)(?P<path>{_PATH})/-/merge_requests/(?P<iid>\d+)"
    r"(?:/[a-z_]+)?/?(?:[#?].*)?$"
)


@dataclass(frozen=True)
class MergeRequestRef:
    """A parsed merge request reference: the project's full path and the MR's iid."""

    project: str
    iid: int

    def __str__(self) -> str:
        return f"{self.project}!{self.iid}"


def parse_mr_ref(text: str, default_project: str | None = None) -> MergeRequestRef | None:
    """``group/project!12``, ``!12`` (needs ``default_project``) or a merge request URL."""
    text = text.strip()
    if default_project and re.fullmatch(r"!\d+", text):
        iid = _iid(text[1:])
        return MergeRequestRef(default_project, iid) if iid is not None else None
    m = _MR_REF.match(text) or _MR_URL.match(text)
    iid = _iid(m["iid"]) if m else None
    return MergeRequestRef(m["path"], iid) if m and iid is not None else None
