"""Burn-up charts as SVG, drawn server-side by a small SVG writer (no plotting library).

The chart has scope (all issues) and done (closed issues) over time, rebuilt from the tracker's
state-event log; a dashed target line that reaches, at each milestone's due date, the issues of
that milestone and the earlier ones; and a marker at each due date. Axes read "Dec 2026" (or
"3 Dec" on short spans, with the year below). The SVG carries ``<title>``/``<desc>`` with the
same facts in words, ``role="img"`` and ``aria-labelledby``. Every text is XML-escaped; we still
refuse anything that looks active before serving it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from xml.sax.saxutils import escape

from secplan.model import Milestone
from secplan.tracker.base import StateEvent, TrackedIssue

_ACTIVE = re.compile(r"<script|\son\w+\s*=|javascript:|<foreignObject", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>")


def _active_markup(svg: str) -> bool:
    """Whether the SVG's markup (its tags, not its text, where the escaped title goes) holds
    anything that could run: plan titles such as "Set only = true" or "Block javascript: URLs"
    are text, not markup."""
    markup = _COMMENT.sub("", svg)
    return any(_ACTIVE.search(tag) for tag in _TAG.findall(markup))


def burnup_series(
    issues: Sequence[TrackedIssue], events: Sequence[StateEvent]
) -> tuple[list[datetime], list[int], list[int]]:
    """Points (time, total, closed) after each change, from creation times and state events."""
    changes: list[tuple[datetime, str, str]] = []
    known: set[str] = set()
    for event in events:
        changes.append((_aware(event.at), event.issue, event.state))
        known.add(event.issue)
    for issue in issues:
        if issue.ref not in known:
            # No event log for it (created elsewhere): use its own timestamps.
            at = issue.created_at or datetime.now(UTC)
            changes.append((_aware(at), issue.ref, "opened"))
            if issue.state == "closed":
                changes.append((_aware(issue.closed_at or at), issue.ref, "closed"))
    changes.sort(key=lambda c: c[0])
    state: dict[str, str] = {}
    times: list[datetime] = []
    total: list[int] = []
    closed: list[int] = []
    done = 0  # issues whose latest state is closed, kept as a running count
    for at, ref, new_state in changes:
        done += (new_state == "closed") - (state.get(ref) == "closed")
        state[ref] = new_state
        times.append(at)
        total.append(len(state))
        closed.append(done)
    return times, total, closed


def _short(title: str, width: int = 48) -> str:
    """The plan title cut to what fits above the chart."""
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _day(d: date) -> datetime:
    return datetime.combine(d, time(12), tzinfo=UTC)


#: Size of the chart (px; the plan page's side panel shows it at this size) and its margins.
W, H = 346, 221
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 40, 30


def targets(
    issues: Sequence[TrackedIssue], milestones: Sequence[Milestone]
) -> list[tuple[Milestone, int]]:
    """(milestone, issues due by then) for each dated milestone, by due date: the target the
    done line should reach at that date (its issues and those of earlier milestones)."""
    per: dict[str, int] = {}
    for issue in issues:
        if issue.milestone:
            per[issue.milestone] = per.get(issue.milestone, 0) + 1
    out: list[tuple[Milestone, int]] = []
    running = 0
    for m in sorted((m for m in milestones if m.due), key=lambda m: m.due or date.max):
        running += per.get(m.title, 0)
        out.append((m, running))
    return out


def _ticks(lo: datetime, hi: datetime) -> tuple[list[tuple[datetime, str]], str]:
    """Date ticks and an axis caption: months ("Dec 2026") on long spans, else weeks ("3 Dec")."""
    if hi - lo >= timedelta(days=75):
        month = date(lo.year, lo.month, 1)
        found: list[tuple[datetime, str]] = []
        while _day(month) <= hi:
            if _day(month) >= lo:
                found.append((_day(month), month.strftime("%b %Y")))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        step = max(1, -(-len(found) // 4))  # at most about four labels
        return found[::step], ""
    days = max((hi - lo).days, 1)
    step = max(1, -(-days // 4))
    first = lo.date() + timedelta(days=1)
    ticks = [
        (
            _day(first + timedelta(days=k)),
            f"{(first + timedelta(days=k)).day} {(first + timedelta(days=k)).strftime('%b')}",
        )
        for k in range(0, days, step)
    ]
    years = sorted({t.year for t, _ in ticks})
    return ticks, "–".join(str(y) for y in years)


def burnup_svg(
    title: str,
    issues: Sequence[TrackedIssue],
    events: Sequence[StateEvent],
    milestones: Sequence[Milestone] = (),
) -> str:
    """The burn-up chart of these issues as an SVG document (targets from ``milestones``)."""
    times, total, closed = burnup_series(issues, events)
    now = datetime.now(UTC)
    goals = targets(issues, milestones) if times else []
    out: list[str] = []
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    if times:
        lo = min([times[0], *(_day(m.start or m.due) for m, _ in goals if m.due)])
        hi = max([now, times[-1], *(_day(m.due) for m, _ in goals if m.due)])
    else:
        lo, hi = now - timedelta(days=7), now
    span = max((hi - lo).total_seconds(), 1.0)
    top = max([*total, *(n for _, n in goals), 1])
    ymax = top + max(1, top // 8)

    def x(at: datetime) -> float:
        return round(LEFT + plot_w * (at - lo).total_seconds() / span, 1)

    def y(n: float) -> float:
        return round(TOP + plot_h * (1 - n / ymax), 1)

    desc = _description(times, total, closed, goals, now)
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-labelledby="t d" '
        'font-family="system-ui, sans-serif" font-size="9">'
    )
    out.append(f'<title id="t">Burn-up chart: {escape(title)}</title>')
    out.append(f'<desc id="d">{escape(desc)}</desc>')
    out.append(f'<rect width="{W}" height="{H}" fill="#ffffff"/>')
    out.append(
        f'<text x="{LEFT - 26}" y="12" font-size="10" font-weight="600">{escape(_short(title))}'
        "</text>"
    )
    # axes, grid and labels
    step = max(1, -(-ymax // 5))
    for n in range(0, ymax + 1, step):
        out.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(n)}" y2="{y(n)}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 4}" y="{y(n) + 3}" text-anchor="end" fill="#4b5563">{n}</text>'
        )
    ticks, caption = _ticks(lo, hi)
    for at, label in ticks:
        out.append(
            f'<line x1="{x(at)}" x2="{x(at)}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 3}" '
            f'stroke="#6b7280"/><text x="{x(at)}" y="{TOP + plot_h + 13}" text-anchor="middle" '
            f'fill="#4b5563">{escape(label)}</text>'
        )
    if caption:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{H - 3}" text-anchor="middle" fill="#6b7280">'
            f"{escape(caption)}</text>"
        )
    out.append(
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(0)}" y2="{y(0)}" stroke="#6b7280"/>'
        f'<text x="8" y="{TOP + plot_h / 2}" fill="#4b5563" '
        f'transform="rotate(-90 8 {TOP + plot_h / 2})" text-anchor="middle">issues</text>'
    )
    if not times:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'fill="#6b7280">no issues yet</text></svg>'
        )
        return _finish(out)
    # due-date markers, then the lines (done drawn last, on top)
    for m, _n in goals:
        assert m.due is not None
        mx = x(_day(m.due))
        # Labels near an edge are anchored inside the chart, so they are not cut off.
        anchor = "end" if mx > W - RIGHT - 30 else "start" if mx < LEFT + 30 else "middle"
        out.append(
            f'<line x1="{mx}" x2="{mx}" y1="{TOP - 4}" y2="{y(0)}" stroke="#9a6700" '
            f'stroke-dasharray="2 2"><title>{escape(m.title)} due {m.due.isoformat()}</title>'
            f'</line><text x="{mx}" y="{TOP - 6}" text-anchor="{anchor}" fill="#9a6700" '
            f'font-size="8">{escape(_short(m.title, 12))}</text>'
        )
    if goals:
        first = goals[0][0]
        start = min(times[0], _day(first.start)) if first.start else times[0]
        pts = [(x(start), y(0))] + [(x(_day(m.due)), y(n)) for m, n in goals if m.due]
        out.append(
            '<polyline fill="none" stroke="#9a6700" stroke-width="1.2" stroke-dasharray="5 3" '
            f'points="{_points(pts)}"/>'
        )
    xs = [*times, max(now, times[-1])]
    out.append(_step(xs, [*total, total[-1]], x, y, "#6b7280"))
    done_pts = _step_points(xs, [*closed, closed[-1]], x, y)
    area = [(done_pts[0][0], y(0)), *done_pts, (done_pts[-1][0], y(0))]
    out.append(f'<polygon fill="#15803d" fill-opacity="0.15" points="{_points(area)}"/>')
    out.append(
        f'<polyline fill="none" stroke="#15803d" stroke-width="1.6" points="{_points(done_pts)}"/>'
    )
    # legend above the plot: inside it, it would cover a line whatever the data
    legend = [("scope", "#6b7280", ""), ("done", "#15803d", "")]
    if goals:
        legend.append(("target by due date", "#9a6700", ' stroke-dasharray="5 3"'))
    lx = float(LEFT - 26)
    for label, colour, dash in legend:
        out.append(
            f'<line x1="{lx}" x2="{lx + 14}" y1="23" y2="23" stroke="{colour}" '
            f'stroke-width="1.6"{dash}/><text x="{lx + 17}" y="26">{escape(label)}</text>'
        )
        lx += 26 + 5.2 * len(label)
    out.append("</svg>")
    return _finish(out)


def _points(pts: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{a},{b}" for a, b in pts)


XFn = Callable[[datetime], float]
YFn = Callable[[float], float]


def _step_points(
    xs: Sequence[datetime], ys: Sequence[int], x: XFn, y: YFn
) -> list[tuple[float, float]]:
    """A step line (value held until the next change) as polyline points."""
    pts: list[tuple[float, float]] = []
    for k, (at, n) in enumerate(zip(xs, ys, strict=True)):
        if k:
            pts.append((x(at), y(ys[k - 1])))
        pts.append((x(at), y(n)))
    return pts


def _step(xs: Sequence[datetime], ys: Sequence[int], x: XFn, y: YFn, colour: str) -> str:
    return (
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.4" '
        f'points="{_points(_step_points(xs, ys, x, y))}"/>'
    )


def _description(
    times: Sequence[datetime],
    total: Sequence[int],
    closed: Sequence[int],
    goals: Sequence[tuple[Milestone, int]],
    now: datetime,
) -> str:
    """The chart in words (its ``<desc>``): scope and done now, each milestone's target."""
    if not times:
        return "No issues yet."
    parts = [
        f"From {times[0].date().isoformat()} to {now.date().isoformat()}: scope {total[-1]} "
        f"issues, {closed[-1]} done."
    ]
    for m, n in goals:
        assert m.due is not None
        parts.append(f"Target {m.title}: {n} done by {m.due.isoformat()}.")
    return " ".join(parts)


def _finish(parts: list[str]) -> str:
    svg = '<?xml version="1.0" encoding="utf-8"?>\n' + "".join(parts) + "\n"
    if _active_markup(svg):  # pragma: no cover - every text above is escaped
        raise ValueError("refusing to serve an SVG with active content")
    return svg
