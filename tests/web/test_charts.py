"""The burn-up chart: scope, done, a target line to each milestone's due date, due markers,
readable axes and a text alternative."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from secplan.model import Milestone
from secplan.tracker.base import StateEvent, TrackedIssue
from secplan.web.charts import burnup_svg, targets

NS = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 9, 1, 9, tzinfo=UTC)


def _issues() -> tuple[list[TrackedIssue], list[StateEvent]]:
    issues = [
        TrackedIssue(f"g/p#{k}", "g/p", k, f"Task {k}", milestone=ms, created_at=START)
        for k, ms in [(1, "Pilot"), (2, "Pilot"), (3, "Rollout"), (4, None)]
    ]
    events = [StateEvent(i.ref, "opened", START + timedelta(days=i.iid)) for i in issues]
    events.append(StateEvent("g/p#1", "closed", START + timedelta(days=20)))
    return issues, events


MILESTONES = [
    Milestone("Rollout", due=date(2027, 2, 26)),
    Milestone("Pilot", start=date(2026, 9, 1), due=date(2026, 12, 18)),
    Milestone("Someday"),  # no due date: no target, no marker
]


def test_targets_accumulate_milestones_by_due_date() -> None:
    issues, _ = _issues()
    assert [(m.title, n) for m, n in targets(issues, MILESTONES)] == [("Pilot", 2), ("Rollout", 3)]


def test_chart_has_target_line_due_markers_axes_and_a_text_alternative() -> None:
    issues, events = _issues()
    svg = burnup_svg("Rotate <secrets> & keys", issues, events, MILESTONES)
    root = ET.fromstring(svg.split("\n", 1)[1])  # well-formed XML
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t d"
    assert root.find(f"{NS}title").text == "Burn-up chart: Rotate <secrets> & keys"
    desc = root.find(f"{NS}desc").text
    assert "scope 4 issues, 1 done" in desc
    assert "Target Pilot: 2 done by 2026-12-18." in desc and "Target Rollout: 3 done" in desc
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "Pilot" in texts and "Rollout" in texts  # due-date marker labels
    assert "target by due date" in texts
    months = [t for t in texts if t and re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t)]
    assert months and not any(re.fullmatch(r"\d{4}-[A-Z][a-z]{2}", t or "") for t in texts)
    dashed = [p for p in root.iter(f"{NS}polyline") if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # the target line: start, then one point per dated milestone
    assert len(dashed[0].get("points").split()) == 3
    markers = [ln for ln in root.iter(f"{NS}line") if ln.find(f"{NS}title") is not None]
    assert [m.find(f"{NS}title").text for m in markers] == [
        "Pilot due 2026-12-18",
        "Rollout due 2027-02-26",
    ]
    assert "<script" not in svg and not re.search(r"\son\w+=", svg)


def test_chart_without_milestones_or_issues() -> None:
    issues, events = _issues()
    plain = burnup_svg("T", issues, events)
    assert "target by due date" not in plain and "stroke-dasharray" not in plain
    empty = burnup_svg("T", [], [])
    assert "no issues yet" in empty and '<desc id="d">No issues yet.</desc>' in empty


def test_short_spans_label_days_and_name_the_year() -> None:
    now = datetime.now(UTC)
    issue = TrackedIssue("g/p#1", "g/p", 1, "T", created_at=now - timedelta(days=10))
    svg = burnup_svg("T", [issue], [])
    texts = re.findall(r">([^<>]+)</text>", svg)
    assert str(now.year) in texts or f"{now.year - 1}–{now.year}" in texts
    assert any(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in texts)
