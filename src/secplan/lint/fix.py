"""``secplan check --fix``: mend what can be mended safely, and nothing else.

Only SP001 is fixed: the catalog table is generated, so rewriting the lines between its markers
loses nothing a person wrote. Every other rule needs a decision about the plan's content (which
milestone, which epic, what detail), which a tool must not make; those stay findings.
"""

from __future__ import annotations

from secplan.errors import SecplanError
from secplan.handbook import Handbook
from secplan.handbook.catalog import catalog_status, write_catalog
from secplan.lint.engine import CheckResult

#: Codes ``--fix`` can mend.
FIXABLE: frozenset[str] = frozenset({"SP001"})


def apply_fixes(handbook: Handbook, result: CheckResult) -> int:
    """Fix the fixable findings of ``result`` (marking them ``fixed``); the number fixed."""
    todo = [f for f in result.findings if f.fixable and not f.fixed and f.code in FIXABLE]
    if not todo:
        return 0
    try:
        write_catalog(handbook)
    except (OSError, SecplanError) as exc:
        # The findings are still reported; the failure is said on stderr by the CLI.
        result.notes.append(f"could not rewrite the catalog page: {exc}")
        for finding in todo:
            finding.fixable = False  # --fix was tried: saying "fixable with --fix" would lie
        return 0
    # Confirm rather than assume: only a catalog that is now current counts as fixed.
    if catalog_status(handbook).stale:
        return 0
    for finding in todo:
        finding.fixed = True
    return len(todo)
