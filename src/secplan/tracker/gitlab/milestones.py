"""Group milestones, named by title (docs.gitlab.com/api/group_milestones): part of
:class:`~secplan.tracker.gitlab.tracker.GitLabTracker`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from secplan.errors import NotFoundError, UsageError
from secplan.tracker.base import MilestoneUpdate, TrackedMilestone
from secplan.tracker.gitlab.client import GitLabClient, encode_path
from secplan.tracker.gitlab.convert import milestone_from_rest
from secplan.tracker.gitlab.ids import IdCache


class MilestoneMethods:
    """Milestone calls; ``milestone`` ids are cached by ``group|title``."""

    client: GitLabClient
    ids: IdCache
    default_group: str | None
    _progress: Callable[[str], None]

    def _milestones_path(self, group: str) -> str:
        return f"groups/{encode_path(group)}/milestones"

    def get_milestone(self, group: str, title: str) -> TrackedMilestone | None:
        """The group milestone titled ``title``, or None."""
        group = group.strip("/")
        for data in (
            self.client.get_or_none(
                self._milestones_path(group), {"title": title}, what=f"milestones of {group}"
            )
            or []
        ):
            if data.get("title") == title:
                self.ids.put("milestone", f"{group.lower()}|{title}", str(data["id"]))
                return milestone_from_rest(data, group)
        return None

    def create_milestone(
        self,
        group: str,
        title: str,
        start: date | None = None,
        due: date | None = None,
        description: str = "",
    ) -> TrackedMilestone:
        """A new group milestone."""
        group = group.strip("/")
        if start and due and due < start:
            raise UsageError(f"milestone {title!r} is due ({due}) before it starts ({start})")
        body: dict[str, Any] = {"title": title, "description": description}
        if start:
            body["start_date"] = start.isoformat()
        if due:
            body["due_date"] = due.isoformat()

        def existing() -> TrackedMilestone | None:
            return self.get_milestone(group, title)

        _s, data, _h = self.client.request(
            "POST",
            self._milestones_path(group),
            json=body,
            what=f"create milestone {title!r} in {group}",
            find_existing=existing,
            pace="create",
        )
        if isinstance(data, TrackedMilestone):
            return data
        self.ids.put("milestone", f"{group.lower()}|{title}", str(data["id"]))
        self._progress(f"milestone {title}")
        return milestone_from_rest(data, group)

    def update_milestone(self, group: str, title: str, update: MilestoneUpdate) -> TrackedMilestone:
        """Apply ``update`` to the group milestone ``title``."""
        group = group.strip("/")
        current = self.get_milestone(group, title)
        if current is None:
            raise NotFoundError(f"no milestone {title!r} in group {group}")
        changes = update.changed()
        if not changes:
            return current
        body: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("start", "due"):
                body[f"{key}_date"] = value.isoformat() if value else None
            else:
                body[key] = value
        _s, data, _h = self.client.request(
            "PUT",
            f"{self._milestones_path(group)}/{current.id}",
            json=body,
            what=f"update milestone {title!r} in {group}",
            safe=True,
        )
        if "title" in changes:
            self.ids.put("milestone", f"{group.lower()}|{changes['title']}", str(data["id"]))
        self._progress(f"milestone {title}")
        return milestone_from_rest(data, group)

    def list_milestones(self, group: str | None = None) -> list[TrackedMilestone]:
        """Every milestone of ``group`` (default group), any state."""
        target = (group or self.default_group or "").strip("/")
        if not target:
            raise UsageError("no group given and no default `group` configured")
        out = []
        for data in self.client.pages(
            self._milestones_path(target), {}, what=f"milestones of {target}"
        ):
            self.ids.put("milestone", f"{target.lower()}|{data['title']}", str(data["id"]))
            out.append(milestone_from_rest(data, target))
        return out

    def _milestone_id(self, project: str, title: str) -> int:
        """The id of the milestone ``title`` visible in ``project`` (its groups' milestones)."""
        group = project.rsplit("/", 1)[0] if "/" in project else project
        for key in (f"{group.lower()}|{title}", f"{project.lower()}|{title}"):
            cached = self.ids.get("milestone", key)
            if cached:
                return int(cached)
        for data in (
            self.client.get(
                f"projects/{encode_path(project)}/milestones",
                {"title": title, "include_ancestors": "true"},
                what=f"milestone {title!r} of {project}",
            )
            or []
        ):
            if data.get("title") == title:
                self.ids.put("milestone", f"{project.lower()}|{title}", str(data["id"]))
                return int(data["id"])
        raise NotFoundError(
            f"no milestone {title!r} in {project} or its groups",
            hint="Group milestones are created by `secplan apply` before the issues using them.",
        )
