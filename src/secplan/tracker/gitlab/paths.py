"""Refs and paths as GitLab's REST API addresses them."""

from __future__ import annotations

from secplan.errors import UsageError
from secplan.refs import parse_issue_ref
from secplan.tracker.gitlab.client import encode_path


def issue_parts(ref: str) -> tuple[str, int]:
    """``("group/project", 12)`` from an issue ref; a UsageError for anything else."""
    parsed = parse_issue_ref(ref)
    if parsed is None:
        raise UsageError(f"{ref!r} is not an issue reference (group/project#iid)")
    return parsed.path, parsed.iid


def issue_path(ref: str) -> str:
    """The REST path of the issue ``ref`` (``projects/<encoded path>/issues/<iid>``)."""
    project, iid = issue_parts(ref)
    return f"projects/{encode_path(project)}/issues/{iid}"


def parent_group(path: str) -> str:
    """The group a project (or subgroup) lives in; the path itself at the top."""
    return path.rsplit("/", 1)[0] if "/" in path else path
