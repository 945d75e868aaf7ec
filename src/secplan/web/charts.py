"""Burn-up charts as SVG, drawn server-side with matplotlib (Agg backend, no display needed).

The chart has two lines over time: total issues (scope) and closed issues (done), rebuilt from
the tracker's state-event log. The SVG is matplotlib's own output (no scripts, no external
references); we still refuse anything that looks active before serving it.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import matplotlib

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from secplan.tracker.base import StateEvent, TrackedIssue

# matplotlib's pyplot state is not thread-safe; the Figure API is, but font caches are shared.
_lock = threading.Lock()
_ACTIVE = re.compile(r"<script|\son\w+\s*=|javascript:|<foreignObject", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>")


def _active_markup(svg: str) -> bool:
    """Whether the SVG's markup (its tags, not its text or comments, where matplotlib puts the
    escaped title) holds anything that could run: plan titles such as "Set only = true" or
    "Block javascript: URLs" are text, not markup."""
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


def burnup_svg(title: str, issues: Sequence[TrackedIssue], events: Sequence[StateEvent]) -> str:
    """The burn-up chart of these issues as an SVG document."""
    times, total, closed = burnup_series(issues, events)
    now = datetime.now(UTC)
    with _lock:
        # Sized for the plan page's side panel (about 340 px wide), so the labels stay legible.
        fig = Figure(figsize=(3.6, 2.3), dpi=96)
        ax = fig.add_subplot()
        if times:
            xs = date2num([*times, max(now, times[-1])])
            total = [*total, total[-1]]
            closed = [*closed, closed[-1]]
            ax.xaxis_date()
            ax.step(xs, total, where="post", label="scope (all issues)", color="#6b7280")
            ax.step(xs, closed, where="post", label="closed", color="#15803d")
            ax.fill_between(xs, closed, step="post", alpha=0.15, color="#15803d")
            ax.set_ylim(0, max(total) + 1)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            # Above the plot area: inside it, the legend would cover a line whatever the data.
            ax.legend(
                loc="lower left",
                bbox_to_anchor=(0, 1.0),
                ncols=2,
                frameon=False,
                fontsize=8,
                handlelength=1.2,
                borderaxespad=0.2,
            )
        else:
            ax.xaxis_date()
            ax.set_xlim(float(date2num(now - timedelta(days=7))), float(date2num(now)))
            ax.text(0.5, 0.5, "no issues yet", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
        locator = AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.xaxis.get_offset_text().set_fontsize(8)
        ax.set_title(_short(title), fontsize=9, loc="left", pad=16 if times else 6)
        ax.set_ylabel("issues", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "secplan"})
    svg = buf.getvalue()
    if _active_markup(svg):  # pragma: no cover - matplotlib does not emit these
        raise ValueError("refusing to serve an SVG with active content")
    return svg
