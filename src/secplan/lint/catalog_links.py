"""Epics a hand-written catalog table links, by plan id (for SP401's hint about ``adopt``).

Read-only: the same table reading ``secplan adopt`` does, without its edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from secplan.handbook.catalog import find_region, read_page
from secplan.handbook.files import CATALOG_NAMES
from secplan.model import Plan
from secplan.refs import parse_epic_ref


def catalog_epics(root: Path, plans: Mapping[str, Plan]) -> dict[str, str]:
    """Plan id -> the first epic its catalog row links; {} without a hand-written table."""
    page_path = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
    if page_path is None:
        return {}
    try:
        page = read_page(page_path)
    except (OSError, UnicodeDecodeError):
        return {}
    if find_region(page.splitlines()) is not None:
        return {}  # a generated catalog: its epics come from the plans, there is nothing to adopt
    from secplan.handbook.adopt import find_hand_table, linked_plan_id, match_plan

    table = find_hand_table(page)
    if table is None:
        return {}
    found: dict[str, str] = {}
    ids = frozenset(plans)  # one read of the ids; plans are built only to match rows by title
    for row in table.rows:
        pid, plan_link = linked_plan_id(row, ids)
        if pid is None:
            plan, plan_link = match_plan(row, plans)
            pid = plan.id if plan is not None else None
        if pid is None or pid in found:
            continue
        for link in row.links:
            ref = parse_epic_ref(link.url.strip()) if link is not plan_link else None
            if ref is not None:
                found[pid] = str(ref)
                break
    return found
