"""A handbook: a directory of plans plus its catalog page.

Public API (other packages import from here, not from the submodules):

- :func:`load_handbook` — discover and parse every plan under a root (cached by content hash).
- :class:`Handbook` — the loaded plans, the catalog page, the config, per-file load errors.
- :func:`find_plan_files` — the plan files under a root, without parsing them.
- :func:`resolve_plan_path` — the file a plan id or path names.
- :func:`plan_id` — the id of a root-relative path (``a/b/index.md`` → ``a/b``).
"""

from secplan.handbook.loader import (
    FileError,
    Handbook,
    find_plan_files,
    load_handbook,
    plan_id,
    resolve_plan_path,
)

__all__ = [
    "FileError",
    "Handbook",
    "find_plan_files",
    "load_handbook",
    "plan_id",
    "resolve_plan_path",
]
