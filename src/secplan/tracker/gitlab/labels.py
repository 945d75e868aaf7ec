"""Group labels created on purpose before use.

Sending a label GitLab does not know with an issue creates a *project* label in that project
(docs.gitlab.com/api/issues, ``labels``), so plans spread over projects would each grow their
own copy. secplan creates missing labels in the group first (``POST /groups/:id/labels``);
a project directly under a user (no group) gets project labels.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Literal

from secplan.errors import ConflictError, NotFoundError
from secplan.tracker.gitlab.client import encode_path

if TYPE_CHECKING:
    from secplan.tracker.gitlab.tracker import GitLabTracker

#: Colour of labels secplan creates (GitLab requires one).
LABEL_COLOR = "#6699cc"


class LabelRegistry:
    """Which labels exist where (one listing per group per run), creating the missing ones."""

    def __init__(self, t: GitLabTracker) -> None:
        self.t = t
        self._known: dict[str, dict[str, str]] = {}  # owner -> name -> global id

    def _owner(self, path: str, kind: Literal["project", "group"]) -> tuple[str, str]:
        """``(api collection, owner key)`` of the labels an object at ``path`` uses."""
        if kind == "project":
            group = path.rsplit("/", 1)[0] if "/" in path else ""
            if group and self.t.is_group(group):
                return f"groups/{encode_path(group)}", f"group:{group.lower()}"
            return f"projects/{encode_path(path)}", f"project:{path.lower()}"
        return f"groups/{encode_path(path)}", f"group:{path.lower()}"

    def _load(self, collection: str, owner: str) -> dict[str, str]:
        known = self._known.get(owner)
        if known is None:
            known = {}
            cls = "GroupLabel" if owner.startswith("group:") else "ProjectLabel"
            for label in self.t.client.pages(
                f"{collection}/labels", {"include_ancestor_groups": "true"}, what="list labels"
            ):
                known[label["name"]] = f"gid://gitlab/{cls}/{label['id']}"
            self._known[owner] = known
        return known

    def ensure(self, path: str, kind: Literal["project", "group"], names: list[str]) -> None:
        """Create the labels of ``names`` the owner of ``path`` does not have yet."""
        self.ids_for(path, kind, names)

    def ids_for(
        self,
        path: str,
        kind: Literal["project", "group"],
        names: list[str],
        *,
        create: bool = True,
    ) -> list[str]:
        """Global ids of the labels ``names`` (created where missing unless ``create`` is
        False, when unknown names are left out)."""
        if not names:
            return []
        collection, owner = self._owner(path, kind)
        known = self._load(collection, owner)
        cls = "GroupLabel" if owner.startswith("group:") else "ProjectLabel"
        out: list[str] = []
        for name in names:
            if name not in known and create:
                try:
                    _s, data, _h = self.t.client.request(
                        "POST",
                        f"{collection}/labels",
                        json={"name": name, "color": LABEL_COLOR},
                        what=f"create label {name!r}",
                        find_existing=partial(self._find, collection, name),
                    )
                    known[name] = f"gid://gitlab/{cls}/{data['id']}"
                except ConflictError:
                    # made meanwhile by someone else: read it back
                    self._known.pop(owner, None)
                    known = self._load(collection, owner)
                    if name not in known:
                        raise
            if name in known:
                out.append(known[name])
        return out

    def _find(self, collection: str, name: str) -> dict[str, object] | None:
        try:
            for label in self.t.client.pages(
                f"{collection}/labels", {"search": name}, what=f"find label {name!r}"
            ):
                if label.get("name") == name:
                    return dict(label)
        except NotFoundError:
            return None
        return None
