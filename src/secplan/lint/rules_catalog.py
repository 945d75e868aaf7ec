"""SP001: the catalog page's generated table no longer matches the plans."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from secplan.lint.context import LintContext
from secplan.lint.registry import Finding, rule

if TYPE_CHECKING:
    from secplan.handbook import Handbook


def catalog_module() -> ModuleType | None:
    """``secplan.handbook.catalog`` if it is installed (imported lazily: it is optional here)."""
    try:
        return importlib.import_module("secplan.handbook.catalog")
    except ImportError:
        return None


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@rule(
    "SP001",
    "catalog-out-of-date",
    "error",
    fixable=True,
    summary="The catalog page's table does not match the plans (`--fix` regenerates it).",
    scope="handbook",
    escalates=False,
)
def catalog_out_of_date(handbook: Handbook, ctx: LintContext) -> Iterator[Finding]:
    """The generated catalog table differs from what the plans say."""
    if not ctx.whole_handbook or handbook.catalog_path is None:
        return
    module = catalog_module()
    if module is None or not hasattr(module, "catalog_status"):
        return
    status = module.catalog_status(handbook)
    if not getattr(status, "stale", False):
        return
    path = Path(getattr(status, "path", None) or handbook.catalog_path)
    finding = Finding(
        "SP001",
        "catalog table is out of date (run `secplan catalog --write` or `secplan check --fix`)",
        int(getattr(status, "line", 1) or 1),
    )
    finding.rel_path = _rel(handbook.root, path)
    yield finding
