"""Commands: ``secplan new`` (scaffold a plan) and ``secplan adopt`` (take over a handbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from secplan.cli.common import (
    DatabaseUrlOption,
    Format,
    FormatOption,
    RootOption,
    console,
    err_console,
    print_json,
    resolve_root,
    resolve_root_argument,
)
from secplan.errors import UsageError


def new(
    title: Annotated[str | None, typer.Argument(help="Title of the new plan.")] = None,
    epic: Annotated[
        str | None, typer.Option("--epic", help="The plan's epic (group&IID or URL).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="The issue the plan started from (group/project#IID)."),
    ] = None,
    status: Annotated[str, typer.Option("--status", help="Initial status.")] = "draft",
    from_issue: Annotated[
        str | None,
        typer.Option(
            "--from-issue",
            help="Promote this issue to an epic and start the plan from it (title, source, epic).",
        ),
    ] = None,
    root: RootOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a new plan <slug>.md from the template and add it to the catalog."""
    from secplan.handbook.scaffold import scaffold

    handbook_root = resolve_root(root)
    if from_issue is not None:
        if epic or source:
            raise UsageError("--from-issue fills in the epic and the source; drop --epic/--source")
        from secplan.handbook.promote import new_plan_from_issue

        promoted = new_plan_from_issue(
            handbook_root, from_issue, title=title, status=status, database_url=database_url
        )
        err_console.print(f"Promoted {escape(promoted.source)} to epic {escape(promoted.epic)}")
        result = promoted.scaffold
    else:
        if not title:
            raise UsageError("give the plan a title", hint='secplan new "Secrets rotation for CI"')
        result = scaffold(handbook_root, title, status=status, epic=epic, source=source)
    console.print(f"Created {escape(str(result.path))}")
    if result.catalog_updated:
        console.print("Added the plan to the catalog")
    elif result.catalog_note:
        err_console.print(f"Note: {escape(result.catalog_note)}")


def adopt(
    root_arg: Annotated[
        Path | None,
        typer.Argument(
            metavar="ROOT", help="Handbook root (default: --root or the current directory)."
        ),
    ] = None,
    root: RootOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    fmt: FormatOption = Format.text,
) -> None:
    """Move a hand-written catalog table into plan front matter and manage the catalog."""
    from secplan.handbook import load_handbook
    from secplan.handbook.adopt import adopt_handbook

    handbook = load_handbook(resolve_root_argument(root_arg, root))
    report = adopt_handbook(handbook, dry_run=dry_run)
    if fmt is Format.json:
        print_json(
            {
                "catalog": str(report.catalog_path),
                "already_managed": report.already_managed,
                "dry_run": dry_run,
                "updated_plans": report.updated_plans,
                "catalog_changed": report.catalog_changed,
                "unlisted_plans": report.unlisted_plans,
                "unknown_rows": [{"line": ln, "text": t} for ln, t in report.unknown_rows],
                "conflicts": report.conflicts,
                "suggested_gitlab_url": report.suggested_gitlab_url,
            }
        )
        return
    verb = "Would update" if dry_run else "Updated"
    if report.already_managed:
        console.print(
            f"{escape(report.catalog_path.name)} is already managed by secplan (catalog "
            + ("updated)" if report.catalog_changed else "up to date)")
        )
        return
    for plan_id in report.updated_plans:
        console.print(f"{verb} front matter: {escape(plan_id)}")
    catalog_name = escape(str(report.catalog_path.relative_to(handbook.root)))
    if report.catalog_changed:
        console.print(f"{verb} catalog: {catalog_name} (table at line {report.table_line})")
    for plan_id in report.unlisted_plans:
        err_console.print(f"Warning: plan {escape(plan_id)} is on disk but not in the table")
    for line, text in report.unknown_rows:
        err_console.print(
            f"Warning: {catalog_name}:{line}: row {escape(repr(text))} names no plan of this"
            " handbook (kept below the catalog)"
        )
    for note in report.conflicts:
        err_console.print(f"Warning: {escape(note)}")
    if report.suggested_gitlab_url:
        err_console.print(
            f"Hint: add gitlab_url = {escape(repr(report.suggested_gitlab_url))} to secplan.toml"
            " so the catalog links each epic instead of showing its reference"
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("new")(new)
    app.command("adopt")(adopt)
