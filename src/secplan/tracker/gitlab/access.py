"""The preflight (``check_access``): every project and group a run touches exists, the token's
user has the role secplan needs there, and the token has the ``api`` scope.

Roles (docs.gitlab.com/user/permissions): Reporter (20) sees confidential issues; without it the
marker search misses secplan's confidential issues created by someone else, and apply would
create them again. Planner (15, GitLab 17.7+) or higher creates epics and milestones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from secplan.errors import ForbiddenError, NotFoundError
from secplan.tracker.base import AccessProblem
from secplan.tracker.gitlab.client import encode_path

if TYPE_CHECKING:
    from secplan.tracker.gitlab.tracker import GitLabTracker

#: GitLab's access levels (docs.gitlab.com/api/members#roles).
REPORTER, PLANNER = 20, 15


def check_access(
    t: GitLabTracker, projects: Iterable[str], groups: Iterable[str]
) -> list[AccessProblem]:
    """Each project needs at least Reporter (to see confidential issues, else the marker
    search misses secplan's issues and apply duplicates them); each group at least Planner
    (epics, milestones); the token the ``api`` scope. A rejected token raises."""
    user = t.current_user()
    problems: list[AccessProblem] = []
    scopes = _token_scopes(t)
    all_projects = sorted({p.strip("/") for p in projects if p})
    all_groups = sorted({g.strip("/") for g in groups if g})
    if scopes is not None and "api" not in scopes:
        for path in all_projects:
            problems.append(
                AccessProblem(
                    path,
                    "project",
                    f"the token has scopes {', '.join(sorted(scopes)) or 'none'}, not `api`: "
                    "it cannot write",
                    "Create a token with the `api` scope.",
                )
            )
        for path in all_groups:
            problems.append(AccessProblem(path, "group", "the token lacks the `api` scope", None))
        return problems
    admin = bool(user.get("is_admin"))
    for path in all_projects:
        problem = _check_member(t, path, "project", user, REPORTER, admin)
        if problem:
            problems.append(problem)
    for path in all_groups:
        problem = _check_member(t, path, "group", user, PLANNER, admin)
        if problem:
            problems.append(problem)
    return problems


def _token_scopes(t: GitLabTracker) -> set[str] | None:
    try:
        data = t.client.get("personal_access_tokens/self", what="read the token's scopes")
    except (NotFoundError, ForbiddenError):
        return None  # not a personal access token, or an older GitLab: roles still checked
    return set(data.get("scopes") or []) if isinstance(data, dict) else None


def _check_member(
    t: GitLabTracker,
    path: str,
    kind: Literal["project", "group"],
    user: dict[str, Any],
    needed: int,
    admin: bool,
) -> AccessProblem | None:
    collection = "projects" if kind == "project" else "groups"
    data = t.client.get_or_none(f"{collection}/{encode_path(path)}", what=f"{kind} {path}")
    if data is None:
        return AccessProblem(
            path,
            kind,
            f"no {kind} {path} on {t.url}, or the token's user cannot see it",
            "Check the path in the plan or secplan.toml (`tracker`, `group`).",
        )
    t.ids.put(kind, path.lower(), str(data["id"]))
    if admin:
        return None
    member = t.client.get_or_none(
        f"{collection}/{encode_path(path)}/members/all/{user['id']}",
        what=f"membership in {path}",
    )
    level = int((member or {}).get("access_level") or 0)
    if level >= needed:
        return None
    role = "Reporter" if needed == REPORTER else "Planner"
    why = (
        "to see confidential issues (without it the marker search misses secplan's issues "
        "and apply would create them again)"
        if kind == "project"
        else "to create epics and milestones"
    )
    return AccessProblem(
        path,
        kind,
        f"{user.get('username', 'the token user')} has access level {level} in {path}; "
        f"secplan needs at least {role} ({needed}) {why}",
        f"Ask an owner of {path} to give the user the {role} role.",
    )
