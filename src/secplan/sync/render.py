"""Terraform-style text and JSON for ``secplan plan`` / ``secplan apply``.

Text lines start with a symbol per action: ``+`` create, ``~`` update, ``=`` unchanged,
``!`` drift, ``?`` orphan. Output is produced line by line so a large handbook streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from secplan.sync.apply import ApplyResult, SyncPlan
from secplan.sync.diff import Change, FieldChange, PlanDiff

SYMBOLS = {"create": "+", "update": "~", "unchanged": "=", "drift": "!", "orphan": "?"}
MODE_TEXT = {
    "plan": "the plan is the source of truth",
    "tracker": "the tracker is the source of truth",
    "frozen": "nothing is created or changed",
}


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    elif value is None:
        text = "none"
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_line(f: FieldChange) -> str:
    if f.name == "description":
        return "      description: changed"
    return f"      {f.name}: {_short(f.old)} -> {_short(f.new)}"


def change_line(c: Change) -> str:
    """One change as a line (without field details)."""
    sym = SYMBOLS[c.action]
    who = c.ref or (f"in {c.target}" if c.target else "")
    item = f" {c.item}" if c.item and c.kind == "issue" else ""
    title = f' "{_short(c.title, 70)}"'
    fields = f" ({', '.join(f.name for f in c.fields)})" if c.fields else ""
    note = c.note
    if c.renamed_from is not None:
        renamed = f"renamed from {c.renamed_from}"
        fields += f" ({renamed})"
        note = note.removeprefix(renamed).lstrip("; ")
    note = f" — {note}" if note else ""
    action = "done" if c.done else c.action
    return f"  {sym} {action} {c.kind} {who}{item}{title}{fields}{note}".rstrip()


def plan_lines(pd: PlanDiff) -> Iterator[str]:
    """The lines of one plan's diff."""
    head = f"{pd.plan} ({pd.status}; {MODE_TEXT[pd.mode]})"
    if pd.path:
        head += f" {pd.path}"
    busy = [c for c in pd.changes if c.action != "unchanged"]
    if not busy and not pd.errors and not pd.warnings and not pd.conflicts:
        yield f"{head}: up to date ({len(pd.changes)} unchanged)"
        return
    yield head
    for err in pd.errors:
        yield f"  error: {err}"
    for warn in pd.warnings + pd.conflicts:
        yield f"  warning: {warn}"
    for c in pd.changes:
        yield change_line(c)
        if c.action in ("update", "drift"):
            for f in c.fields:
                yield _field_line(f)


def plural(count: int, noun: str) -> str:
    """``1 orphan``, ``2 orphans``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(counts: dict[str, int], verb: str = "Plan") -> str:
    """``Plan: 3 to create, 1 to update, 10 unchanged, 1 drift, 0 orphans.``"""
    return (
        f"{verb}: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged, {counts['drift']} drift, "
        f"{plural(counts['orphan'], 'orphan')}."
    )


def render_plan_text(sync_plan: SyncPlan) -> Iterator[str]:
    """Every line of ``secplan plan`` text output."""
    for pd in sync_plan.diffs:
        yield from plan_lines(pd)
    yield ""
    yield summary_line(sync_plan.counts())


def plan_json(sync_plan: SyncPlan) -> list[dict[str, Any]]:
    """``secplan plan --format json``: one object per change (plan errors as ``error`` objects
    are listed separately by :func:`problems_json`)."""
    return [c.to_json() for c in sync_plan.changes]


def problems_json(sync_plan: SyncPlan) -> list[dict[str, Any]]:
    """Plan-level errors and warnings."""
    out: list[dict[str, Any]] = []
    for pd in sync_plan.diffs:
        out += [{"plan": pd.plan, "severity": "error", "message": m} for m in pd.errors]
        out += [{"plan": pd.plan, "severity": "warning", "message": m} for m in pd.warnings]
        out += [
            {"plan": pd.plan, "severity": "warning", "message": m, "conflict": True}
            for m in pd.conflicts
        ]
    return out


def done_line(c: Change) -> str:
    """A change ``apply`` carried out, with the ref it made or changed."""
    verb = "created" if c.action == "create" else "updated"
    state = c.updates.get("state")
    if state is not None and set(c.updates) == {"state"}:
        verb = "closed" if state == "closed" else "reopened"
    item = f" {c.item}" if c.item and c.kind == "issue" else ""
    renamed = f" (renamed from {c.renamed_from})" if c.renamed_from is not None else ""
    return f"{SYMBOLS[c.action]} {verb} {c.kind} {c.ref}{item}{renamed}"


def apply_summary(result: ApplyResult) -> str:
    """The last line of ``secplan apply``."""
    created = sum(1 for c in result.done if c.action == "create")
    updated = sum(1 for c in result.done if c.action == "update")
    counts = result.plan.counts()
    text = (
        f"Apply: {created} created, {updated} updated, {counts['unchanged']} unchanged, "
        f"{counts['drift']} drift, {plural(counts['orphan'], 'orphan')}"
    )
    if result.failed:
        text += f", {len(result.failed)} failed"
    return text + "."


def apply_json(result: ApplyResult) -> dict[str, Any]:
    """``secplan apply --format json``."""
    return {
        "ok": result.ok,
        "writes": result.writes,
        "created": [c.ref for c in result.done if c.action == "create"],
        "updated": [c.ref for c in result.done if c.action == "update"],
        "failed": [{**c.to_json(), "error": msg} for c, msg in result.failed],
        "changes": plan_json(result.plan),
        "problems": problems_json(result.plan),
    }
