"""Commands for the embedded tracker: ``secplan issue|epic|milestone ...`` and ``secplan promote``.

Scripts rely on two things here: ``issue create`` prints the new ref (``PROJECT#IID``) as its last
line and ``promote`` prints the epic ref (``GROUP&IID``) last; ``--format json`` output is stable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from secplan.cli.common import (
    DatabaseUrlOption,
    Format,
    FormatOption,
    RootOption,
    console,
    err_console,
    print_json,
    resolve_root,
)
from secplan.errors import NotFoundError, UsageError
from secplan.tracker.base import (
    IssueUpdate,
    TrackedEpic,
    TrackedIssue,
    TrackedMilestone,
    TrackedNote,
    Tracker,
)

issue_app = typer.Typer(help="Issues in the embedded tracker.", no_args_is_help=True)
epic_app = typer.Typer(help="Epics in the embedded tracker.", no_args_is_help=True)
milestone_app = typer.Typer(help="Group milestones in the embedded tracker.", no_args_is_help=True)


class StateFilter(StrEnum):
    opened = "opened"
    closed = "closed"
    all = "all"


DescriptionOption = Annotated[str, typer.Option("--description", "-d", help="Description.")]
LabelsOption = Annotated[list[str] | None, typer.Option("--label", "-l", help="Label (repeat).")]
PublicOption = Annotated[bool, typer.Option("--public", help="Not confidential.")]


@contextmanager
def _tracker(
    root: Path | None, database_url: str | None, *, read_only: bool = False
) -> Iterator[Tracker]:
    """The configured tracker; ``read_only`` (list and show) opens the database without
    writing to it (immutable on a read-only mount) and creates none."""
    from secplan.tracker import open_backend

    with open_backend(
        resolve_root(root), database_url=database_url, read_only=read_only
    ) as backend:
        yield backend.tracker


def _on_ref(
    root: Path | None, database_url: str | None, ref: str, action: Callable[[Tracker, str], Any]
) -> None:
    """Expand ``ref``, run ``action(tracker, ref)`` and print the ref it returns (or ``ref``)."""
    ref = _expand(root, ref)
    with _tracker(root, database_url) as tracker:
        result = action(tracker, ref)
    typer.echo(getattr(result, "ref", None) or ref)


def _required(obj: Any, what: str, ref: str, hint: str) -> Any:
    if obj is None:
        raise NotFoundError(f"{what} {ref} not found", hint=hint)
    return obj


def _fetch_shown(
    root: Path | None,
    database_url: str | None,
    ref: str,
    kind: str,
    related: Callable[[Tracker, str], dict[str, list[Any]]],
) -> tuple[Any, dict[str, list[Any]]]:
    """The issue or epic ``ref`` (a clear error when missing) and what ``related`` reads."""
    ref = _expand(root, ref)
    with _tracker(root, database_url, read_only=True) as tracker:
        get = tracker.get_issue if kind == "issue" else tracker.get_epic
        obj = _required(get(ref), kind, ref, f"List {kind}s with: secplan {kind} list")
        return obj, related(tracker, obj.ref)


def _print_shown_json(obj: object, related: dict[str, list[Any]]) -> None:
    data = _as_json(obj)
    for key, values in related.items():
        data[key] = [_as_json(v) for v in values]
    print_json(data)


def _table(columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _print_list(fmt: Format, objects: list[Any], empty: str, table: Callable[[], Table]) -> None:
    """A list command's output: JSON, ``empty`` when there is nothing, else the table."""
    if fmt is Format.json:
        print_json([_as_json(o) for o in objects])
    elif objects:
        console.print(table())
    else:
        console.print(empty)


def _confidential(title: str, confidential: bool) -> Text:
    return Text(title + (" (confidential)" if confidential else ""))


def _print_header(obj: TrackedIssue | TrackedEpic) -> None:
    console.print(Text(f"{obj.ref}  {obj.title}", style="bold"))
    _field("State", obj.state)
    _field("Confidential", "yes" if obj.confidential else "no")
    _field("Labels", ", ".join(obj.labels))


def _print_description(text: str) -> None:
    if text:
        console.print()
        console.print(Text(text))


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
    return _table(
        ("Ref", "State", "Title", "Labels", "Milestone", "Epic"),
        (
            (
                Text(issue.ref),
                Text(issue.state, style="green" if issue.state == "opened" else "dim"),
                _confidential(issue.title, issue.confidential),
                Text(", ".join(issue.labels)),
                Text(issue.milestone or ""),
                Text(issue.epic or ""),
            )
            for issue in issues
        ),
    )


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
    description: DescriptionOption = "",
    label: LabelsOption = None,
    milestone: Annotated[str | None, typer.Option(help="Group milestone title.")] = None,
    assignee: Annotated[list[str] | None, typer.Option(help="Assignee (repeat).")] = None,
    epic: Annotated[str | None, typer.Option(help="Parent epic, e.g. security&3.")] = None,
    public: PublicOption = False,
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
    """List issues, in project path and iid order."""
    with _tracker(root, database_url, read_only=True) as tracker:
        issues = tracker.list_issues(
            project, state=state.value, epic=epic, labels=label or None, milestone=milestone
        )
    _print_list(fmt, issues, "No issues.", lambda: _issue_table(issues))


@issue_app.command("show")
def issue_show(
    ref: Annotated[str, typer.Argument(help="Issue ref, e.g. security/appsec/plans#12.")],
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show one issue with its notes."""
    issue, related = _fetch_shown(
        root,
        database_url,
        ref,
        "issue",
        lambda t, r: {"notes": t.notes(r), "events": t.state_events([r])},
    )
    if fmt is Format.json:
        _print_shown_json(issue, related)
        return
    notes = related["notes"]
    _print_header(issue)
    _field("Milestone", issue.milestone)
    _field("Assignees", ", ".join(issue.assignees))
    _field("Epic", issue.epic)
    _field("Created", f"{issue.created_at:%Y-%m-%d %H:%M}" if issue.created_at else None)
    _field("Closed", f"{issue.closed_at:%Y-%m-%d %H:%M}" if issue.closed_at else None)
    _print_description(issue.description)
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
    changes: dict[str, Any] = {}
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
    update = IssueUpdate(**changes, add_labels=add_label or [], remove_labels=remove_label or [])
    if not update:
        raise UsageError("nothing to change", hint="Pass --title, --add-label, ...")
    with _tracker(root, database_url) as tracker:
        issue = tracker.update_issue(ref, update)
    typer.echo(issue.ref)


@issue_app.command("close")
def issue_close(
    ref: Annotated[str, typer.Argument(help="Issue ref.")],
    note: Annotated[str | None, typer.Option(help="Leave this note when closing.")] = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close an issue; prints its ref."""
    _on_ref(root, database_url, ref, lambda t, r: t.close_issue(r, note=note))


@issue_app.command("reopen")
def issue_reopen(
    ref: Annotated[str, typer.Argument(help="Issue ref.")],
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Reopen a closed issue; prints its ref."""
    _on_ref(root, database_url, ref, lambda t, r: t.reopen_issue(r))


@issue_app.command("note")
def issue_note(
    ref: Annotated[str, typer.Argument(help="Issue or epic ref.")],
    body: Annotated[str, typer.Argument(help="The comment.")],
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Comment on an issue or an epic."""
    _on_ref(root, database_url, ref, lambda t, r: t.add_note(r, body))


# -- epic -------------------------------------------------------------------------------------


@epic_app.command("create")
def epic_create(
    group: Annotated[str, typer.Argument(help="Group path, e.g. security.")],
    title: Annotated[str, typer.Argument(help="Epic title.")],
    description: DescriptionOption = "",
    label: LabelsOption = None,
    public: PublicOption = False,
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
    with _tracker(root, database_url, read_only=True) as tracker:
        epics: list[TrackedEpic] = tracker.list_epics(group)
    if state is not StateFilter.all:
        epics = [e for e in epics if e.state == state.value]
    rows = (
        (
            Text(e.ref),
            Text(e.state),
            _confidential(e.title, e.confidential),
            Text(", ".join(e.labels)),
        )
        for e in epics
    )
    _print_list(fmt, epics, "No epics.", lambda: _table(("Ref", "State", "Title", "Labels"), rows))


@epic_app.command("show")
def epic_show(
    ref: Annotated[str, typer.Argument(help="Epic ref, e.g. security&3.")],
    fmt: FormatOption = Format.text,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show an epic with its child issues and notes."""
    epic, related = _fetch_shown(
        root,
        database_url,
        ref,
        "epic",
        lambda t, r: {"issues": t.list_issues(state="all", epic=r), "notes": t.notes(r)},
    )
    if fmt is Format.json:
        _print_shown_json(epic, related)
        return
    issues, notes = related["issues"], related["notes"]
    _print_header(epic)
    closed = sum(1 for i in issues if i.state == "closed")
    _field("Issues", f"{closed}/{len(issues)} closed" if issues else None)
    _print_description(epic.description)
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
    with _tracker(root, database_url, read_only=True) as tracker:
        milestones: list[TrackedMilestone] = tracker.list_milestones(group)
    rows = (
        (Text(m.group), Text(m.title), str(m.start or ""), str(m.due or ""), Text(m.state))
        for m in milestones
    )
    columns = ("Group", "Title", "Start", "Due", "State")
    _print_list(fmt, milestones, "No milestones.", lambda: _table(columns, rows))


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
