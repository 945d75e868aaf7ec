"""Command: ``secplan show PLAN`` — the parsed plan: sections, anchors, work items, requirements."""

from __future__ import annotations

from typing import Annotated

import typer

from secplan.cli.common import Format, FormatOption, RootOption, console, print_json, resolve_root


def show(
    plan_ref: Annotated[
        str, typer.Argument(metavar="PLAN", help="A plan id (e.g. security-enclave) or file path.")
    ],
    root: RootOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Show how secplan reads one plan: front matter, sections, work items, requirements."""
    from secplan.errors import NotFoundError, SecplanError, UnknownPlanError
    from secplan.handbook import load_handbook, resolve_plan_path
    from secplan.handbook.serialize import plan_to_json

    handbook_root = resolve_root(root)
    path = resolve_plan_path(handbook_root, plan_ref)
    if path is None:
        raise UnknownPlanError(
            f"no plan '{plan_ref}' in the handbook at {handbook_root}",
            hint="Name a plan by its id (path without .md) or by its file path; "
            "use --root for another handbook.",
        )
    from secplan.config import load_config
    from secplan.lint.runner import is_outside_handbook

    config = load_config(handbook_root)
    # Outside a handbook (no configuration, no catalog) nothing is cached: not our folder.
    cached = not is_outside_handbook(handbook_root, config)
    handbook = load_handbook(handbook_root, config, paths=[path], use_cache=cached)
    for error in handbook.errors:
        raise SecplanError(error.message, path=error.rel_path, line=error.line)
    plan = handbook.get(str(path))
    if plan is None:
        raise NotFoundError(
            f"{plan_ref} is not a plan of the handbook at {handbook_root}",
            hint="The catalog page (index.md) is not a plan.",
        )
    data = plan_to_json(plan)
    if output_format is Format.json:
        print_json(data)
        return
    _print_text(data)


def _print_text(data: dict) -> None:  # type: ignore[type-arg]
    from rich.markup import escape
    from rich.table import Table

    def e(value: object) -> str:
        return escape(str(value)) if value is not None else "-"

    console.print(f"[bold]{e(data['title'])}[/]  ({e(data['id'])}, {e(data['path'])})")
    console.print(
        f"status: {e(data['status'])}   epic: {e(data['epic'])}   source: {e(data['source'])}"
        f"   confidential: {'yes' if data['confidential'] else 'no'}"
    )
    if data["milestones"]:
        console.print("\n[bold]Milestones[/]")
        for m in data["milestones"]:
            dates = " → ".join(d for d in (m["start"], m["due"]) if d) or "no dates"
            console.print(f"  {e(m['title'])}  ({e(dates)})")
    if data["sections"]:
        console.print("\n[bold]Sections[/]")
        for s in data["sections"]:
            indent = "  " * s["level"]
            console.print(f"{indent}{e(s['title'])}  [dim]#{e(s['anchor'])}  line {s['line']}[/]")
    if data["items"]:
        table = Table(title="Work items", title_justify="left", show_lines=False)
        for column in ("line", "id", "title", "milestone", "labels", "ref"):
            table.add_column(column, overflow="fold")
        for i in data["items"]:
            title = ("[x] " if i["done"] else "[ ] ") + i["title"]
            if i["generated"]:
                title += " (from requirements)"
            table.add_row(
                str(i["line"]),
                e(i["id"]),
                e(title),
                e(i["milestone"]),
                e(", ".join(i["labels"]) or None),
                e(i["ref"]),
            )
        console.print()
        console.print(table)
    if data["requirements"]:
        console.print("\n[bold]Requirements[/]")
        for r in data["requirements"]:
            console.print(f"  {r['line']:>5}  {r['level']:<6}  {e(r['id'])}: {e(r['text'])}")
    if data["diagnostics"]:
        console.print("\n[bold]Problems[/]")
        for d in data["diagnostics"]:
            console.print(
                f"  {data['path']}:{d['line']}:{d['column']}: {d['code']} {e(d['message'])}"
            )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("show")(show)
