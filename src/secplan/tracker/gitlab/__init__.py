"""GitLab as a tracker: issues, group milestones, labels, notes and links over REST; epics as
Work Items over GraphQL (or REST epics, or a confidential tracking issue on the Free tier).

``open_gitlab_tracker(config)`` builds one from ``secplan.toml``; see docs/gitlab.md.
"""

from __future__ import annotations

from secplan.tracker.gitlab.ids import IdCache, MemoryIdCache
from secplan.tracker.gitlab.open import open_gitlab_tracker
from secplan.tracker.gitlab.stats import ApiStats
from secplan.tracker.gitlab.tracker import GitLabTracker

__all__ = ["ApiStats", "GitLabTracker", "IdCache", "MemoryIdCache", "open_gitlab_tracker"]
