"""SP001: the catalog page's generated table no longer matches the plans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from secplan.handbook import Handbook
from secplan.handbook.catalog import catalog_status
from secplan.lint.context import LintContext
from secplan.lint.registry import Finding, rule


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
    status = catalog_status(handbook)
    if not status.stale:
        return
    finding = Finding(
        "SP001",
        "catalog table is out of date (run `secplan catalog --write` or `secplan check --fix`)",
        status.line,
    )
    finding.rel_path = _rel(handbook.root, status.path or handbook.catalog_path)
    yield finding
