"""Build plans and run single rules on them without a parser or a handbook on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from secplan.config import Config
from secplan.lint.context import LintContext
from secplan.lint.engine import Engine, Selector
from secplan.lint.registry import Finding
from secplan.model import Anchor, Milestone, Plan, Section, WorkItem

ROOT = Path("/handbook")

DETAIL = "Rotate the runner registration tokens every thirty days using the scheduled pipeline."


def item(title: str = "Rotate tokens", **kw: Any) -> WorkItem:
    """A work item that passes every rule unless told otherwise."""
    fields: dict[str, Any] = {
        "id": title.lower().replace(" ", "-"),
        "title": title,
        "line": 20,
        "milestone": "Pilot",
        "description": DETAIL,
        "section": "work",
    }
    fields.update(kw)
    return WorkItem(**fields)


def plan(plan_id: str = "alpha", **kw: Any) -> Plan:
    """A draft plan that passes every rule unless told otherwise."""
    fm: dict[str, Any] = {"title": "Alpha", "status": kw.get("status", "draft")}
    fm.update(kw.pop("front_matter", {}))
    fields: dict[str, Any] = {
        "id": plan_id,
        "path": ROOT / f"{plan_id}.md",
        "rel_path": f"{plan_id}.md",
        "title": "Alpha",
        "front_matter": fm,
        "front_matter_lines": {k: i + 2 for i, k in enumerate(fm)},
        "body_line": 10,
        "milestones": [Milestone("Pilot", due=dt.date(2026, 3, 31), line=5)],
        "sections": [Section("Work", 2, "work", 12)],
        "anchors": [Anchor("work", 12)],
        "items": [item()],
    }
    fields.update(kw)
    return Plan(**fields)


def context(plans: list[Plan] | None = None, **kw: Any) -> LintContext:
    """A context whose handbook holds ``plans``."""
    plans = plans or []
    config = kw.pop("config", None) or Config(root=ROOT)
    return LintContext(
        root=ROOT,
        config=config,
        plan_ids={p.id for p in plans} | kw.pop("extra_ids", set()),
        plans_by_id={p.id: p for p in plans},
        **kw,
    )


def check(
    p: Plan,
    select: str | None = None,
    *,
    others: list[Plan] | None = None,
    config: Config | None = None,
    **kw: Any,
) -> list[Finding]:
    """Findings of the engine for one plan (only the rules in ``select``, default all)."""
    config = config or Config(root=ROOT)
    ctx = context([p, *(others or [])], config=config, **kw)
    engine = Engine(config, Selector.build([select] if select else [], [], config.ignore))
    return engine.check_plan(p, ctx, cwd=ROOT)


def codes(findings: list[Finding]) -> list[str]:
    """The codes of the findings, in order."""
    return [f.code for f in findings]
