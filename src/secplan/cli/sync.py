"""Commands: ``secplan plan``, ``apply``, ``coverage``, ``status`` (sync with the tracker)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from secplan.cli.common import (
    DatabaseUrlOption,
    Format,
    FormatOption,
    RootOption,
    console,
    err_console,
    print_json,
    real_console,
    resolve_root,
)
from secplan.errors import NotFoundError
from secplan.termsafe import termsafe

if TYPE_CHECKING:
    from secplan.config import Config
    from secplan.handbook import Handbook
    from secplan.model import Plan
    from secplan.sync.apply import ApplyResult, SyncPlan
    from secplan.sync.changes import Change
    from secplan.sync.state import SyncState
    from secplan.tracker import Backend
    from secplan.tracker.base import CallStats, Tracker
    from secplan.tracker.gitlab.progress import ApplyProgress


PlansArg = Annotated[
    list[str] | None,
    typer.Argument(help="Plan ids or files (default: every plan of the handbook).", metavar="PLAN"),
]
CreateEpicOption = Annotated[
    bool,
    typer.Option("--create-epic", help="Create an epic for plans that name none."),
]


def _out(line: str) -> None:
    sys.stdout.write(termsafe(line) + "\n")


def load_plans(root: Path, refs: list[str] | None) -> tuple[Handbook, list[Plan], bool]:
    """The handbook, the plans named by ``refs`` (every plan when none), and whether that is all
    of them. Only the named files are parsed."""
    from secplan.handbook import load_handbook
    from secplan.handbook.loader import resolve_plan_path

    if not refs:
        hb = load_handbook(root)
        for err in hb.errors:
            err_console.print(
                f"[yellow]warning:[/] {escape(err.rel_path)}:{err.line}: {escape(err.message)}"
            )
        return hb, list(hb.plans), True
    paths = []
    for ref in refs:
        path = resolve_plan_path(root, ref)
        if path is None:
            raise NotFoundError(
                f"no plan '{ref}' in {root}",
                hint="Name a plan by its id (path without .md) or its file; "
                "'secplan check' lists the plans.",
            )
        paths.append(path)
    hb = load_handbook(root, paths=paths)
    plans: list[Plan] = []
    for ref in refs:
        plan = hb.get(ref)
        if plan is None:
            bad = next((e for e in hb.errors), None)
            raise NotFoundError(
                f"plan '{ref}' could not be read" + (f": {bad.message}" if bad else ""),
                path=bad.rel_path if bad else None,
            )
        if plan not in plans:
            plans.append(plan)
    return hb, plans, False


def other_plans(root: Path, selected: list[Plan], all_plans: bool) -> list[Plan]:
    """The rest of the handbook when only some plans are synced and they declare milestones:
    group milestones are shared, so the other plans' declarations decide whether one may be
    changed. Read through the parse cache; their load problems are not this command's."""
    if all_plans or not any(p.milestones for p in selected):
        return []
    from secplan.handbook import load_handbook

    return list(load_handbook(root).plans)


@contextmanager
def open_sync_backend(
    root: Path, config: Config, database_url: str | None, *, read_only: bool
) -> Iterator[Backend]:
    """The configured tracker and secplan's store, closed afterwards. ``read_only`` commands
    create no database; without one they see an empty tracker and say so."""
    from secplan.tracker import open_backend

    backend = open_backend(config, database_url=database_url, read_only=read_only)
    try:
        if backend.missing is not None:
            err_console.print(
                f"[yellow]note:[/] {escape(backend.missing.message)}; "
                f"{escape(backend.missing.hint or '')}"
            )
        yield backend
    finally:
        backend.close()


def _print_problems(sync_plan: SyncPlan) -> None:
    for pd in sync_plan.diffs:
        for msg in pd.errors:
            where = pd.path or pd.plan
            err_console.print(f"[bold red]error:[/] {escape(where)}: {escape(msg)}")


def plan_cmd(
    plans: PlansArg = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
    fmt: FormatOption = Format.text,
    create_epic: CreateEpicOption = False,
    mr_note: Annotated[
        bool,
        typer.Option(
            "--mr-note",
            help="Also post the summary on the pipeline's merge request (CI_PROJECT_ID, "
            "CI_MERGE_REQUEST_IID), as one note updated on every push.",
        ),
    ] = False,
) -> None:
    """Show what apply would change in the tracker (a dry run: nothing is written)."""
    from secplan.sync.apply import compute_plan
    from secplan.sync.render import plan_json, render_plan_text

    base = resolve_root(root)
    hb, selected, all_plans = load_plans(base, plans)
    with open_sync_backend(base, hb.config, database_url, read_only=True) as backend:
        result = compute_plan(
            backend.tracker,
            backend.state(),
            selected,
            hb.config,
            create_epic=create_epic,
            all_plans=all_plans,
            context=other_plans(base, selected, all_plans),
        )
    lines = list(render_plan_text(result))
    if fmt is Format.json:
        print_json(plan_json(result))
        _print_problems(result)
    else:
        for line in lines:
            _out(line)
    if mr_note:
        from secplan.tracker.gitlab.mr_note import post_plan_note

        outcome = post_plan_note(hb.config, [termsafe(line) for line in lines])
        err_console.print(f"Plan note {outcome.action} (note {outcome.note_id})")
    if any(d.errors for d in result.diffs) or result.conflicts:
        raise typer.Exit(1)


#: Applies with fewer changes than this finish before a bar would tell anything.
PROGRESS_MIN_CHANGES = 20


def _progress_bar(enabled: bool) -> ApplyProgress | None:
    """The progress bar with an ETA ``apply`` shows on a terminal (stderr) in text output."""
    if not enabled:
        return None
    from secplan.tracker.gitlab.progress import ApplyProgress

    return ApplyProgress(min_total=PROGRESS_MIN_CHANGES, console=real_console(err_console))


def apply_cmd(
    plans: PlansArg = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
    fmt: FormatOption = Format.text,
    create_epic: CreateEpicOption = False,
    write_back: Annotated[
        bool,
        typer.Option("--write-back", help="Write the refs of the epic and issues into the plans."),
    ] = False,
    stats: Annotated[
        bool,
        typer.Option(
            "--stats", help="Print the tracker calls made: reads, writes, retries, waits."
        ),
    ] = False,
) -> None:
    """Create and update the epic, milestones and issues the plans describe; print the refs made.

    Exits 0 when the tracker matches the plans afterwards.
    """
    from secplan.sync.render import apply_json, apply_summary, plan_lines

    base = resolve_root(root)
    hb, selected, all_plans = load_plans(base, plans)
    context = other_plans(base, selected, all_plans)
    text = fmt is Format.text
    # Only a person at a terminal reads a bar: not in JSON output, not in a pipe or a log.
    bar = _progress_bar(text and err_console.is_terminal)
    written: list[str] = []

    def write(result: ApplyResult) -> None:
        # Under the apply lock: no other apply reads or edits these files meanwhile.
        if not write_back:
            return
        done = set(result.completed)
        plans = [p for p in selected if p.id in done] if result.interrupted else selected
        written.extend(_write_back(result, plans))

    try:
        result, calls = _apply(
            base, hb, selected, all_plans, context, database_url, text, bar, create_epic, write
        )
    except KeyboardInterrupt:
        _interrupted(written, text)
    if stats:
        err_console.print(escape(calls.summary()))
    if text:
        for pd in result.plan.diffs:
            flagged = any(c.action in ("drift", "orphan") for c in pd.changes)
            if pd.errors or pd.warnings or pd.conflicts or flagged:
                skip = False
                for line in plan_lines(pd):
                    # Done and unchanged objects were printed above; field lines (deeper
                    # indented) belong to the change line before them.
                    if not line.startswith("      "):
                        skip = line.lstrip().startswith(("+", "~", "=", "error:"))
                    if not skip:
                        _out(line)
        _print_problems(result.plan)
        for change, msg in result.failed:
            err_console.print(f"[bold red]error:[/] {escape(change.plan)}: {escape(msg)}")
        for line in written:
            _out(line)
        _out(apply_summary(result))
    else:
        data = apply_json(result)
        data["written_back"] = written
        print_json(data)
        _print_problems(result.plan)
    if result.conflicts:
        err_console.print(
            f"[bold red]error:[/] {len(result.conflicts)} conflict(s) between plans keep the "
            "tracker from matching them; resolve the warnings above in the plans"
        )
    if not result.ok:
        raise typer.Exit(1)


def _apply(
    base: Path,
    hb: Handbook,
    selected: list[Plan],
    all_plans: bool,
    context: list[Plan],
    database_url: str | None,
    text: bool,
    bar: ApplyProgress | None,
    create_epic: bool,
    on_applied: Callable[[ApplyResult], None],
) -> tuple[ApplyResult, CallStats]:
    """Run apply with its progress output; returns the result and the tracker calls made."""
    from secplan.sync.apply import apply_plans
    from secplan.sync.render import done_line

    with (
        open_sync_backend(base, hb.config, database_url, read_only=False) as backend,
        bar if bar is not None else nullcontext(),
    ):

        def planned(sync_plan: SyncPlan) -> None:
            if bar is not None:
                bar.plan(len(sync_plan.pending()))

        def done(change: Change) -> None:
            if text:
                _out(done_line(change))
            if bar is not None:
                bar.step(f"{change.kind} {change.ref or change.title}")

        result = apply_plans(
            backend.tracker,
            backend.state(),
            selected,
            hb.config,
            create_epic=create_epic,
            all_plans=all_plans,
            on_change=done,
            on_planned=planned,
            context=context,
            on_applied=on_applied,
        )
        return result, backend.tracker.stats


def _interrupted(written: list[str], text: bool) -> NoReturn:
    """Ctrl+C during apply: report the refs written back for the plans applied to their end
    (when ``--write-back`` was given), say that nothing is lost, exit 130 like a shell."""
    for line in written:
        if text:
            _out(line)
        else:  # no half JSON document on stdout
            err_console.print(escape(line))
    sys.stdout.flush()
    err_console.print("[bold yellow]interrupted;[/] nothing is lost, run apply again")
    raise typer.Exit(130)


def _write_back(result: ApplyResult, plans: list[Plan]) -> list[str]:
    from secplan.sync.writeback import write_back

    lines: list[str] = []
    for plan in plans:
        refs = {item: ref for (pid, item), ref in result.issues.items() if pid == plan.id}
        epic = result.epics.get(plan.id)
        if not refs and not epic:
            continue
        wb = write_back(plan, epic, refs)
        for why in wb.skipped:
            err_console.print(
                f"[yellow]warning:[/] {escape(plan.rel_path)}: write-back skipped: {escape(why)}"
            )
        if wb.changed:
            lines.append(
                f"wrote {len(wb.changed_lines)} ref(s) into {plan.rel_path} "
                f"(lines {', '.join(map(str, sorted(wb.changed_lines)))})"
            )
    return lines


R = TypeVar("R")


def _report(
    plans: list[str] | None,
    root: Path | None,
    database_url: str | None,
    build: Callable[[Tracker, SyncState, list[Plan], Config], list[R]],
) -> tuple[list[R], Backend]:
    """A read-only report (coverage, status) over the selected plans. Without a tracker
    database the answer would be made up (every ref unverifiable), so it is an error."""
    base = resolve_root(root)
    hb, selected, _all = load_plans(base, plans)
    from secplan.tracker import open_backend

    with open_backend(hb.config, database_url=database_url, read_only=True) as backend:
        if backend.missing is not None:
            raise backend.missing
        return build(backend.tracker, backend.state(), selected, hb.config), backend


def coverage_cmd(
    plans: PlansArg = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Per plan and section: items with issues (open/closed), uncovered items, and work not yet
    written as items (TODO/TBD markers, requirements no item covers).

    Exits 1 when an item names an issue that cannot be credited to it (a conflict).
    """
    from secplan.sync.coverage import coverage
    from secplan.sync.render import plural

    result, _backend = _report(plans, root, database_url, coverage)
    conflicted = any(i.conflict for pc in result for i in pc.items)
    if fmt is Format.json:
        print_json([pc.to_json() for pc in result])
        if conflicted:
            raise typer.Exit(1)
        return
    for pc in result:
        t = pc.totals
        _out(
            f"{pc.plan} ({pc.status}) — {plural(t['items'], 'item')}: {t['open']} open, "
            f"{t['closed']} closed, {t['uncovered']} uncovered; "
            f"{plural(t['candidates'], 'candidate')}"
        )
        for problem in pc.problems:
            _out(f"  note: {problem}")
        for sec in pc.sections:
            _out(f"  § {sec.title or '(no section)'}" + (f" #{sec.anchor}" if sec.anchor else ""))
            for it in sec.items:
                if it.conflict:
                    _out(f'    - CONFLICT: {it.ref} {it.id} "{it.title}" (line {it.line})')
                elif it.state is None:
                    state = "done, no issue" if it.done else "UNCOVERED"
                    _out(f'    - {state}: {it.id} "{it.title}" (line {it.line})')
                else:
                    _out(f'    - {it.state}: {it.ref} {it.id} "{it.title}"')
            for c in sec.candidates:
                kind = f"requirement ({c.level})" if c.kind == "requirement" else "marker"
                _out(f"    * {kind} line {c.line}: {c.text}")
    if conflicted:
        raise typer.Exit(1)


def status_cmd(
    plans: PlansArg = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Per plan: status, epic, and progress (done/total work items, by milestone), and the
    tracker's epic mode."""
    from secplan.sync.status import status

    result, backend = _report(plans, root, database_url, status)
    mode = backend.tracker.capabilities.epic_mode_text
    if fmt is Format.json:
        print_json([{**ps.to_json(), "mode": mode} for ps in result])
        return
    table = Table("Plan", "Status", "Epic", "Progress", "By milestone", "Uncovered")
    for ps in result:
        p = ps.progress
        by_ms = "; ".join(
            f"{title or '(none)'} {m.closed}/{m.total}" for title, m in ps.milestones.items()
        )
        table.add_row(
            escape(ps.plan),
            ps.status,
            escape(ps.epic or "—"),
            f"{p.closed}/{p.total} ({p.percent}%)",
            escape(by_ms),
            str(ps.uncovered),
        )
    console.print(table)
    _out(f"tracker: {backend.tracker.identity} ({mode})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("plan")(plan_cmd)
    app.command("apply")(apply_cmd)
    app.command("coverage")(coverage_cmd)
    app.command("status")(status_cmd)
