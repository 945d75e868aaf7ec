"""A handbook: a directory of plans plus its catalog page.

Public API (other packages import from here, not from the submodules):

- :func:`load_handbook` — discover and parse every plan under a root (cached by content hash).
- :class:`Handbook` — the loaded plans, the catalog page, the config, per-file load errors.
"""

from secplan.handbook.loader import FileError, Handbook, find_plan_files, load_handbook

__all__ = ["FileError", "Handbook", "find_plan_files", "load_handbook"]
