"""``open_gitlab_tracker(config)``: the GitLab tracker ``secplan.toml`` describes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secplan.errors import UsageError
from secplan.tracker.gitlab.ids import IdCache
from secplan.tracker.gitlab.token import resolve_token
from secplan.tracker.gitlab.tracker import GitLabTracker


def open_gitlab_tracker(
    config: Any,
    *,
    id_cache: IdCache | None = None,
    pace: bool = True,
    progress: Callable[[str], None] | None = None,
) -> GitLabTracker:
    """A :class:`GitLabTracker` for ``config.gitlab_url``, ``config.group`` (default group)
    and ``config.tracker`` (default project), with the token from ``GITLAB_TOKEN`` or
    ``token_command``."""
    url = getattr(config, "gitlab_url", None)
    if not url:
        raise UsageError(
            'backend = "gitlab" needs gitlab_url',
            hint='Add `gitlab_url = "https://gitlab.example.com"` to secplan.toml.',
        )
    token = resolve_token(getattr(config, "token_command", None))
    return GitLabTracker(
        url,
        token,
        default_group=getattr(config, "group", None),
        default_project=getattr(config, "tracker", None),
        id_cache=id_cache,
        pace=pace,
        progress=progress,
    )
