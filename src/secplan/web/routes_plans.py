"""The plan page (rendered plan, TOC, side panel), its JSON twin and its burn-up chart.

Plan ids may contain ``/`` (nested plans), so the routes use a path converter; an id is only
ever looked up in the loaded handbook, never joined to a filesystem path.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from secplan.model import Plan
from secplan.sync.coverage import section_at
from secplan.tracker.base import TrackedIssue
from secplan.web.annotate import render_items, split_sections
from secplan.web.app import WebContext, get_ctx, ref_kinds, render
from secplan.web.assets import asset_response, handbook_asset
from secplan.web.data import feedback_flags, issue_dict, issue_index, threads_for
from secplan.web.links import ServerLinks, plan_page_path

router = APIRouter()

LEVELS = ("must", "should", "may")


def lookup(ctx: WebContext, plan_id: str) -> Plan:
    """The plan with this id, or 404."""
    plan = ctx.plans.get(plan_id)
    if plan is None:
        raise HTTPException(status_code=404, detail=f"no plan with id '{plan_id}'")
    return plan


def diagnostics(ctx: WebContext, plan: Plan) -> list[dict[str, Any]]:
    """Lint findings at the plan's own status (parser diagnostics included).

    Cached by the plan's content hash, the handbook's shape and the tracker's and review
    threads' versions (rules look at epics and open threads): an unchanged plan is not linted
    again.
    """
    from secplan.lint import engine

    def lint() -> list[dict[str, Any]]:
        findings = engine.lint_plans(ctx.plans.handbook, [plan], require_ready=False)
        return [
            {"code": f.code, "severity": f.severity, "message": f.message, "line": f.line}
            for f in findings
        ]

    kind = f"diagnostics:{ctx.tracker_version}:{ctx.reviews_version}"
    return [dict(d) for d in ctx.plans.per_plan(kind, plan, lint)]


def remaining_work(ctx: WebContext, plan: Plan) -> dict[str, Any] | None:
    """What ``secplan coverage`` says for this plan: totals, uncovered items, candidates."""
    if ctx.tracker is None:
        return None
    data = issue_index(ctx).report(plan).to_json()
    data["uncovered"] = [i for i in data["items"] if i["state"] is None and not i["done"]]
    return data


def plan_view(ctx: WebContext, plan: Plan) -> dict[str, Any]:
    """Everything the plan page and ``/plans/{id}.json`` show."""
    index = issue_index(ctx)
    issues: dict[str, TrackedIssue] = index.for_plan(plan)
    items = []
    for item in plan.items:
        issue = issues.get(item.id)
        items.append(
            {
                "id": item.id,
                "title": item.title,
                "section": item.section,
                "milestone": item.milestone,
                "labels": list(item.labels),
                "assignees": list(item.assignees),
                "description": item.description,
                "acceptance": list(item.acceptance),
                "spike": item.spike,
                "done": item.done,
                "generated": item.generated,
                "line": item.line,
                "ref": issue.ref if issue else item.ref,
                "state": issue.state if issue else None,
                # a written ref the read model does not credit (see secplan.sync.match)
                "conflict": bool(item.ref) and issue is None,
                "issue": issue_dict(issue) if issue else None,
            }
        )
    requirements: dict[str, list[dict[str, Any]]] = {level: [] for level in LEVELS}
    for req in plan.requirements:
        requirements.setdefault(req.level, []).append(
            {
                "id": req.id,
                "level": req.level,
                "keyword": req.keyword,
                "text": req.text,
                "section": req.section,
                "line": req.line,
            }
        )
    threads = threads_for(ctx, plan)
    flags = feedback_flags(ctx, plan)
    by_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in threads:
        by_section[t["section"]].append(t)
    # A marker counts once, in the innermost section it is written in (not in every ancestor).
    marker_count: dict[str, int] = defaultdict(int)
    for marker in plan.markers:
        owner = section_at(plan, marker.line)
        if owner is not None:
            marker_count[owner.anchor] += 1
    coverage = []
    for section in plan.sections:
        sec_items = [i for i in items if i["section"] == section.anchor]
        coverage.append(
            {
                "anchor": section.anchor,
                "title": section.title,
                "level": section.level,
                "item_count": len(sec_items),
                "with_issue": sum(1 for i in sec_items if i["state"]),
                "closed": sum(1 for i in sec_items if i["state"] == "closed"),
                "uncovered": [i["id"] for i in sec_items if not i["state"] and not i["done"]],
                "markers": marker_count[section.anchor],
                "requirements": sum(1 for r in plan.requirements if r.section == section.anchor),
                "open_threads": sum(1 for t in by_section[section.anchor] if not t["resolved"]),
                "feedback_requested": flags.get(section.anchor, False),
            }
        )
    progress = index.progress(plan)
    return {
        "remaining": remaining_work(ctx, plan),
        "id": plan.id,
        "title": plan.title or plan.id,
        "status": plan.status,
        "epic": plan.epic,
        "source": plan.source,
        "superseded_by": plan.superseded_by,
        "owners": list(plan.owners),
        "labels": list(plan.labels),
        "path": plan.rel_path,
        "milestones": [
            {
                "title": m.title,
                "start": m.start.isoformat() if m.start else None,
                "due": m.due.isoformat() if m.due else None,
            }
            for m in plan.milestones
        ],
        "resources": [{"title": r.title, "url": r.url} for r in plan.resources],
        "ssot": [{"title": r.title, "url": r.url} for r in plan.ssot],
        "sections": [
            {"title": s.title, "level": s.level, "anchor": s.anchor, "line": s.line}
            for s in plan.sections
        ],
        "items": items,
        "requirements": requirements,
        "coverage": coverage,
        "progress": progress.to_json(),
        "diagnostics": diagnostics(ctx, plan),
        "threads": threads,
        "outdated_threads": [t for t in threads if t["outdated"]],
    }


def plan_document(ctx: WebContext, plan: Plan, view: dict[str, Any]) -> dict[str, Any]:
    """``/plans/{id}.json``: the plan view with the rendered body (no issue badges)."""
    return {**view, "html": ctx.plans.rendered(plan).html}


@router.get("/plans/{plan_id:path}.json", summary="Plan as JSON")
def plan_json(plan_id: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """The parsed plan with its issues, coverage, diagnostics and review threads."""
    plan = lookup(ctx, plan_id)
    return plan_document(ctx, plan, plan_view(ctx, plan))


def progress_svg(ctx: WebContext, plan: Plan) -> str:
    """The plan's burn-up chart (SVG) from the tracker's state events."""
    from secplan.web.charts import burnup_svg

    found = issue_index(ctx).plan_issues(plan)
    refs = sorted(found)
    events = ctx.tracker.state_events(refs) if ctx.tracker is not None and refs else []
    issues = [found[r] for r in refs]
    return burnup_svg(plan.title or plan.id, issues, events, plan.milestones)


@router.get(
    "/plans/{plan_id:path}/progress",
    summary="Burn-up chart (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def plan_progress(plan_id: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """A burn-up chart of the plan's issues from the tracker's state events."""
    return Response(
        progress_svg(ctx, lookup(ctx, plan_id)),
        media_type="image/svg+xml",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "no-cache",
        },
    )


def _title_of(ctx: WebContext, plan_id: str | None) -> str | None:
    other = ctx.plans.known(plan_id) if plan_id else None
    return (other.title or other.id) if other is not None else None


#: What the page says after a form was sent (``?posted=`` of the redirect).
FLASH = {
    "thread": "Thread started.",
    "reply": "Reply added.",
    "resolved": "Thread resolved.",
    "reopened": "Thread reopened.",
    "feedback": "Feedback request updated.",
}


def plan_source_file(plan: Plan) -> str:
    """The static site's file of a plan's source view."""
    return f"source/{plan.id}.html"


def source_href(plan: Plan, line: int | None, links: Any) -> str | None:
    """The line in the plan's source view (None without a line)."""
    if not line:
        return None
    if getattr(links, "static_site", False):
        return f"{links.to(plan_source_file(plan))}#L{int(line)}"
    return f"/plans/{quote(plan.id)}/source#L{int(line)}"


#: The parser's line breaks (``\n``, ``\r\n``, ``\r``): line numbers of diagnostics count only
#: these, not the other separators ``str.splitlines`` knows (U+2028, form feed, ...).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def plan_source_context(plan: Plan) -> dict[str, Any]:
    """The source view's template context: the plan file's lines (BOM dropped), numbered as
    the parser numbers them, as one block of HTML (``lines_html``; escaped here, a line at a
    time — a template loop over tens of thousands of lines is most of a site build)."""
    try:
        text = plan.path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    lines = _LINE_BREAK.split(text.removeprefix("\ufeff"))
    if lines and lines[-1] == "":
        lines.pop()
    html = "".join(
        f'<li id="L{n}"><a class="line-no" href="#L{n}" aria-label="line {n}">{n}</a>'
        f"<code>{escape(line)}</code></li>\n"
        for n, line in enumerate(lines, start=1)
    )
    return {
        "title": f"Source of {plan.title or plan.id}",
        "plan": {"id": plan.id, "title": plan.title or plan.id, "path": plan.rel_path},
        "lines_html": Markup(html),
        "line_count": len(lines),
    }


def breakdown_for(ctx: WebContext, plan: Plan) -> dict[str, Any] | None:
    """``secplan breakdown``'s proposals for a plan without work items, and the Markdown
    ``breakdown --write`` would add (items section; milestones as front matter)."""
    if plan.items:
        return None

    def compute() -> dict[str, Any] | None:
        from secplan.breakdown.propose import propose
        from secplan.breakdown.write import render_section

        try:
            text = plan.path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None
        found = propose(plan, text.removeprefix("\ufeff"))
        if not found:
            return None
        front = ""
        if found.milestones:
            rows = ["milestones:"]
            for m in found.milestones:
                rows.append(f"  - title: {_yaml_str(m.title)}")
                if m.due:
                    rows.append(f"    due: {m.due.isoformat()}")
            front = "\n".join(rows) + "\n"
        return {
            "milestones": [m.to_dict() for m in found.milestones],
            "items": [i.to_dict() for i in found.items],
            "markdown": render_section(plan, found),
            "front_matter": front,
        }

    return ctx.plans.per_plan("breakdown", plan, compute)


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mr_threads(ctx: WebContext, plan: Plan) -> dict[str | None, list[dict[str, Any]]]:
    """Section anchor -> the plan's merge request threads as the page shows them: the body
    rendered and sanitised like plan text, the GitLab link only when it is http(s)."""
    if ctx.mr_threads is None:
        return {}
    from secplan.markdown.render import render_fragment  # plan pages only: not at start

    return {
        anchor: [
            {
                **asdict(t),
                "html": render_fragment(t.body),
                "url": t.url if t.url.startswith(("https://", "http://")) else "",
            }
            for t in threads
        ]
        for anchor, threads in ctx.mr_threads.for_plan(plan.id).items()
    }


def plan_page_context(
    ctx: WebContext,
    plan: Plan,
    view: dict[str, Any],
    links: Any = None,
    posted: str | None = None,
    posted_thread: int | None = None,
) -> dict[str, Any]:
    """The plan template's context: the view, the body cut at its sections with the work
    items rendered as items, the TOC, threads per section, diagnostics as HTML, proposals.

    ``links`` are the page's links (the live server's when None); ``posted`` names the form
    just sent (``FLASH``), shown as a status message in ``posted_thread`` (the thread the
    browser lands on) or, without one, at the top.
    """
    if links is None:
        links = ServerLinks(ctx.plans.known, ref_kinds(ctx))
    rendered = ctx.plans.rendered(plan)
    threads_by_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in view["threads"]:
        threads_by_section[t["section"]].append(t)
    open_counts = {c["anchor"]: c["open_threads"] for c in view["coverage"] if c["open_threads"]}
    mr_threads = _mr_threads(ctx, plan)
    if ctx.mr_threads is not None:
        for anchor, count in ctx.mr_threads.open_counts(plan.id).items():
            if anchor:
                open_counts[anchor] = open_counts.get(anchor, 0) + count
    body = render_items(rendered.html, view["items"], links.ref)
    parts = split_sections(body, open_counts)
    placed = {anchor for _, anchor in parts if anchor}
    coverage = {c["anchor"]: c for c in view["coverage"]}
    # Threads on a section the text has no heading for (raw HTML, odd renderers) stay visible.
    unplaced = [t for t in view["threads"] if not t["outdated"] and t["section"] not in placed]
    unplaced_mr = [t for a, ts in mr_threads.items() if a not in placed for t in ts]
    from secplan.markdown.render import render_fragment  # plan pages only: not at start

    diagnostics_html = [
        {
            **d,
            "html": render_fragment(d["message"], inline=True),
            "href": source_href(plan, d.get("line"), links),
        }
        for d in view["diagnostics"]
    ]
    return {
        "title": view["title"],
        "plan": view,
        "body_parts": parts,
        "coverage_by_anchor": coverage,
        "toc": rendered.toc,
        "threads_by_section": threads_by_section,
        "unplaced_threads": unplaced,
        "mr_threads_by_section": mr_threads,
        "unplaced_mr_threads": unplaced_mr,
        "diagnostics_html": diagnostics_html,
        "breakdown": breakdown_for(ctx, plan),
        "rendered_items": {i["id"] for i in view["items"] if f'id="item-{i["id"]}"' in body},
        "flash": FLASH.get(posted or ""),
        "flash_thread": posted_thread
        if any(t["id"] == posted_thread for t in view["threads"])
        else None,
        "superseded_title": _title_of(ctx, plan.superseded_by),
    }


@router.get("/plans/{plan_id:path}/source", summary="Plan source", response_class=Response)
def plan_source(
    plan_id: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> Response:
    """The plan file as written, one anchor per line (``#L12``), for diagnostics to link to."""
    return render(request, "source.html", **plan_source_context(lookup(ctx, plan_id)))


@router.get("/plans/{plan_id:path}", summary="Plan page", response_class=Response)
def plan_page(
    plan_id: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> Response:
    """The rendered plan with its table of contents and side panel.

    A folder plan (``name/index.md``) lives at ``/plans/name/`` and a file plan at
    ``/plans/name``, so the plan's relative links and images resolve against the plan file's
    folder, as on GitLab; other files of the handbook below that URL are its assets.
    """
    wanted = plan_id.removesuffix("/")
    plan = ctx.plans.get(wanted)
    if plan is None:
        asset = handbook_asset(ctx.root, plan_id)
        if asset is not None:
            return asset_response(asset)
        if plan_id.endswith((".md", ".html")):
            # A link written to a plan's file (`other.md`) that nothing rewrote: follow it.
            target = ctx.plans.plan_id_for(plan_id)
            if target is not None:
                return RedirectResponse(ServerLinks(ctx.plans.known).plan(target), 307)
    plan = lookup(ctx, wanted)
    canonical = plan_page_path(plan)
    if plan_id != canonical:  # the slash decides which folder relative links resolve against
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse("/plans/" + quote(canonical) + query, status_code=308)
    view = plan_view(ctx, plan)
    posted = request.query_params.get("posted")
    thread = request.query_params.get("thread", "")
    context = plan_page_context(
        ctx, plan, view, posted=posted, posted_thread=int(thread) if thread.isdigit() else None
    )
    return render(request, "plan.html", **context)
