"""Commands for the embedded tracker: ``secplan issue|epic|milestone ...`` and ``secplan promote``.

Scripts rely on two things here: ``issue create`` prints the new ref (``PROJECT#IID``) as its last
line and ``promote`` prints the epic ref (``GROUP&IID``) last; ``--format json`` output is stable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from secplan.cli.common import DatabaseUrlOption, RootOption, console, print_json, resolve_root
from secplan.errors import UsageError
from secplan.tracker.base import TrackedEpic, TrackedIssue, TrackedMilestone, TrackedNote

issue_app = typer.Typer(help="Issues in the embedded tracker.", no_args_is_help=True)
epic_app = typer.Typer(help="Epics in the embedded tracker.", no_args_is_help=True)
milestone_app = typer.Typer(help="Group milestones in the embedded tracker.", no_args_is_help=True)


class Format(StrEnum):
    text = "text"
    json = "json"


class StateFilter(StrEnum):
    opened = "opened"
    closed = "closed"
    all = "all"


FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]


@contextmanager
def _tracker(root: Path | None, database_url: str | None) -> Iterator[Any]:
    from secplan.tracker import open_tracker

    with open_tracker(resolve_root(root), database_url) as tracker:
        yield tracker


def _expand(root: Path | None, ref: str) -> str:
    """``#12`` / ``&3`` short refs use the handbook's ``tracker`` project / ``group``."""
    text = ref.strip()
    if not text.startswith(("#", "&")):
        return text
    from secplan.config import load_config
    from secplan.refs import parse_epic_ref, parse_issue_ref

    config = load_config(resolve_root(root))
    default = config.tracker if text.startswith("#") else config.group
    parsed = (
        parse_issue_ref(text, default_project=default)
        if text.startswith("#")
        else parse_epic_ref(text, default_group=default)
    )
    if parsed is None:
        key = "tracker" if text.startswith("#") else "group"
        raise UsageError(
            f"{text} needs a default {key} to expand",
            hint=f"Write the full reference, or set {key} = ... in secplan.toml.",
        )
    return str(parsed)


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _as_json(obj: object) -> dict[str, Any]:
    assert dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    return {k: _iso(v) for k, v in dataclasses.asdict(obj).items()}


def _parse_date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise UsageError(f"{option} {value!r} is not a date", hint="Use YYYY-MM-DD.") from err


def _issue_table(issues: list[TrackedIssue]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Ref", "State", "Title", "Labels", "Milestone", "Epic"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        table.add_row(
            Text(issue.ref),
            Text(issue.state, style="green" if issue.state == "opened" else "dim"),
            Text(issue.title + (" (confidential)" if issue.confidential else "")),
            Text(", ".join(issue.labels)),
            Text(issue.milestone or ""),
            Text(issue.epic or ""),
        )
    return table


def _print_notes(notes: list[TrackedNote]) -> None:
    if not notes:
        return
    console.print(Text("\nNotes:", style="bold"))
    for note in notes:
        console.print(Text(f"- {note.author}, {note.created_at:%Y-%m-%d %H:%M}: ", style="dim"))
        console.print(Text("  " + note.body.replace("\n", "\n  ")))


def _field(name: str, value: object) -> None:
    console.print(Text.assemble((f"{name + ':':<14}", "bold"), str(value if value else "-")))


# -- issue ------------------------------------------------------------------------------------


@issue_app.command("create")
def issue_create(
    project: Annotated[str, typer.Argument(help="Project path, e.g. security/appsec/plans.")],
    title: Annotated[str, typer.Argument(help="Issue title.")],
    description: Annotated[str, typer.Option("--description", "-d", help="Description.")] = "",
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Label (repeat).")
    ] = None,
    milestone: Annotated[str | None, typer.Option(help="Group milestone title.")] = None,
    assignee: Annotated[list[str] | None, typer.Option(help="Assignee (repeat).")] = None,
    epic: Annotated[str | None, typer.Option(help="Parent epic, e.g. security&3.")] = None,
    public: Annotated[bool, typer.Option("--public", help="Not confidential.")] = False,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an issue (confidential unless --public); prints its ref as the last line."""
    with _tracker(root, database_url) as tracker:
        issue = tracker.create_issue(
            project,
            title,
            description=description,
            labels=label or [],
            milestone=milestone,
            assignees=assignee or [],
            confidential=not public,
            epic=epic,
        )
    typer.echo(issue.ref)


@issue_app.command("list")
def issue_list(
    project: Annotated[str | None, typer.Argument(help="Project or group path.")] = None,
    state: Annotated[StateFilter, typer.Option(help="Which issues.")] = StateFilter.opened,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Has this label (repeat: all).")
    ] = None,
    milestone: Annotated[str | None, typer.Option(help="In this milestone.")] = None,
    epic: Annotated[str | None, typer.Option(help="Children of this epic.")] = None,
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List issues, newest project path and iid order."""
    with _tracker(root, database_url) as tracker:
        issues = tracker.list_issues(
            project, state=state.value, epic=epic, labels=label or None, milestone=milestone
        )
    if fmt is Format.json:
        print_json([_as_json(i) for i in issues])
    elif issues:
        console.print(_issue_table(issues))
    else:
        console.print("No issues.")


@issue_app.command("show")
def issue_show(
    ref: Annotated[str, typer.Argument(help="Issue ref, e.g. security/appsec/plans#12.")],
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show one issue with its notes."""
    from secplan.errors import NotFoundError

    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        issue = tracker.get_issue(ref)
        if issue is None:
            raise NotFoundError(
                f"issue {ref} not found", hint="List issues with: secplan issue list"
            )
        notes = tracker.notes(issue.ref)
        events = tracker.state_events([issue.ref])
    if fmt is Format.json:
        data = _as_json(issue)
        data["notes"] = [_as_json(n) for n in notes]
        data["events"] = [_as_json(e) for e in events]
        print_json(data)
        return
    console.print(Text(f"{issue.ref}  {issue.title}", style="bold"))
    _field("State", issue.state)
    _field("Confidential", "yes" if issue.confidential else "no")
    _field("Labels", ", ".join(issue.labels))
    _field("Milestone", issue.milestone)
    _field("Assignees", ", ".join(issue.assignees))
    _field("Epic", issue.epic)
    _field("Created", f"{issue.created_at:%Y-%m-%d %H:%M}" if issue.created_at else None)
    _field("Closed", f"{issue.closed_at:%Y-%m-%d %H:%M}" if issue.closed_at else None)
    if issue.description:
        console.print()
        console.print(Text(issue.description))
    _print_notes(notes)


@issue_app.command("update")
def issue_update(
    ref: Annotated[str, typer.Argument(help="Issue ref.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    add_label: Annotated[list[str] | None, typer.Option(help="Add a label (repeat).")] = None,
    remove_label: Annotated[list[str] | None, typer.Option(help="Remove a label (repeat).")] = None,
    milestone: Annotated[str | None, typer.Option(help='Milestone title ("" removes it).')] = None,
    epic: Annotated[str | None, typer.Option(help='Parent epic ref ("" removes it).')] = None,
    assignee: Annotated[list[str] | None, typer.Option(help="Set the assignees (repeat).")] = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Change an issue's fields; prints its ref."""
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if description is not None:
        changes["description"] = description
    if milestone is not None:
        changes["milestone"] = milestone or None
    if epic is not None:
        changes["epic"] = epic or None
    if assignee is not None:
        changes["assignees"] = assignee
    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        if add_label or remove_label:
            current = tracker.get_issue(ref)
            if current is None:
                from secplan.errors import NotFoundError

                raise NotFoundError(f"issue {ref} not found")
            drop = set(remove_label or [])
            changes["labels"] = [lb for lb in current.labels if lb not in drop] + [
                lb for lb in add_label or [] if lb not in current.labels
            ]
        if not changes:
            raise UsageError("nothing to change", hint="Pass --title, --add-label, ...")
        issue = tracker.update_issue(ref, **changes)
    typer.echo(issue.ref)


@issue_app.command("close")
def issue_close(
    ref: Annotated[str, typer.Argument(help="Issue ref.")],
    note: Annotated[str | None, typer.Option(help="Leave this note when closing.")] = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close an issue; prints its ref."""
    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        issue = tracker.close_issue(ref, note=note)
    typer.echo(issue.ref)


@issue_app.command("reopen")
def issue_reopen(
    ref: Annotated[str, typer.Argument(help="Issue ref.")],
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Reopen a closed issue; prints its ref."""
    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        issue = tracker.reopen_issue(ref)
    typer.echo(issue.ref)


@issue_app.command("note")
def issue_note(
    ref: Annotated[str, typer.Argument(help="Issue or epic ref.")],
    body: Annotated[str, typer.Argument(help="The comment.")],
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Comment on an issue or an epic."""
    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        tracker.add_note(ref, body)
    typer.echo(ref)


# -- epic -------------------------------------------------------------------------------------


@epic_app.command("create")
def epic_create(
    group: Annotated[str, typer.Argument(help="Group path, e.g. security.")],
    title: Annotated[str, typer.Argument(help="Epic title.")],
    description: Annotated[str, typer.Option("--description", "-d", help="Description.")] = "",
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Label (repeat).")
    ] = None,
    public: Annotated[bool, typer.Option("--public", help="Not confidential.")] = False,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an epic (confidential unless --public); prints its ref as the last line."""
    with _tracker(root, database_url) as tracker:
        epic = tracker.create_epic(
            group, title, description=description, labels=label or [], confidential=not public
        )
    typer.echo(epic.ref)


@epic_app.command("list")
def epic_list(
    group: Annotated[str | None, typer.Argument(help="Group path (and its subgroups).")] = None,
    state: Annotated[StateFilter, typer.Option(help="Which epics.")] = StateFilter.all,
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List epics."""
    with _tracker(root, database_url) as tracker:
        epics: list[TrackedEpic] = tracker.list_epics(group)
    if state is not StateFilter.all:
        epics = [e for e in epics if e.state == state.value]
    if fmt is Format.json:
        print_json([_as_json(e) for e in epics])
        return
    if not epics:
        console.print("No epics.")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Ref", "State", "Title", "Labels"):
        table.add_column(column, overflow="fold")
    for e in epics:
        title = e.title + (" (confidential)" if e.confidential else "")
        table.add_row(Text(e.ref), Text(e.state), Text(title), Text(", ".join(e.labels)))
    console.print(table)


@epic_app.command("show")
def epic_show(
    ref: Annotated[str, typer.Argument(help="Epic ref, e.g. security&3.")],
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show an epic with its child issues and notes."""
    from secplan.errors import NotFoundError

    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        epic = tracker.get_epic(ref)
        if epic is None:
            raise NotFoundError(f"epic {ref} not found", hint="List epics with: secplan epic list")
        issues = tracker.list_issues(state="all", epic=epic.ref)
        notes = tracker.notes(epic.ref)
    if fmt is Format.json:
        data = _as_json(epic)
        data["issues"] = [_as_json(i) for i in issues]
        data["notes"] = [_as_json(n) for n in notes]
        print_json(data)
        return
    console.print(Text(f"{epic.ref}  {epic.title}", style="bold"))
    _field("State", epic.state)
    _field("Confidential", "yes" if epic.confidential else "no")
    _field("Labels", ", ".join(epic.labels))
    closed = sum(1 for i in issues if i.state == "closed")
    _field("Issues", f"{closed}/{len(issues)} closed" if issues else None)
    if epic.description:
        console.print()
        console.print(Text(epic.description))
    if issues:
        console.print()
        console.print(_issue_table(issues))
    _print_notes(notes)


# -- milestone --------------------------------------------------------------------------------


@milestone_app.command("list")
def milestone_list(
    group: Annotated[str | None, typer.Argument(help="Group path (and its subgroups).")] = None,
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List group milestones."""
    with _tracker(root, database_url) as tracker:
        milestones: list[TrackedMilestone] = tracker.list_milestones(group)
    if fmt is Format.json:
        print_json([_as_json(m) for m in milestones])
        return
    if not milestones:
        console.print("No milestones.")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Group", "Title", "Start", "Due", "State"):
        table.add_column(column, overflow="fold")
    for m in milestones:
        table.add_row(
            Text(m.group),
            Text(m.title),
            str(m.start or ""),
            str(m.due or ""),
            Text(m.state),
        )
    console.print(table)


@milestone_app.command("create")
def milestone_create(
    group: Annotated[str, typer.Argument(help="Group path.")],
    title: Annotated[str, typer.Argument(help="Milestone title (unique in the group).")],
    start: Annotated[str | None, typer.Option(help="Start date, YYYY-MM-DD.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a group milestone; prints its title."""
    with _tracker(root, database_url) as tracker:
        m = tracker.create_milestone(
            group,
            title,
            start=_parse_date(start, "--start"),
            due=_parse_date(due, "--due"),
            description=description,
        )
    typer.echo(m.title)


# -- promote ----------------------------------------------------------------------------------


def promote(
    ref: Annotated[str, typer.Argument(help="Issue ref, e.g. security/appsec/plans#12.")],
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Promote an issue to an epic in its project's group; prints the epic ref last."""
    from secplan.cli.common import err_console

    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        epic = tracker.promote_issue(ref)
    err_console.print(Text(f"Promoted {ref} to epic {epic.ref}; the issue is closed."))
    typer.echo(epic.ref)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(issue_app, name="issue")
    app.add_typer(epic_app, name="epic")
    app.add_typer(milestone_app, name="milestone")
    app.command("promote")(promote)
