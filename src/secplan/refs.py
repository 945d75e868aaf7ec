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
        return Ref("issue", default_project, int(text[1:]))
    m = _ISSUE_REF.match(text) or _ISSUE_URL.match(text)
    return Ref("issue", m["path"], int(m["iid"])) if m else None


def parse_epic_ref(text: str, default_group: str | None = None) -> Ref | None:
    """``group/sub&16``, ``&16`` (needs ``default_group``) or an epic URL; else None."""
    text = text.strip()
    if default_group and re.fullmatch(r"&\d+", text):
        return Ref("epic", default_group, int(text[1:]))
    m = _EPIC_REF.match(text) or _EPIC_URL.match(text)
    return Ref("epic", m["path"], int(m["iid"])) if m else None


def parse_ref(text: str) -> Ref | None:
    """An issue or epic reference or URL, whichever it is; None if it is neither."""
    return parse_issue_ref(text) or parse_epic_ref(text)
