"""Command: ``secplan breakdown PLAN`` — propose Milestones and work items for a prose plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from secplan.cli.common import Format, FormatOption, RootOption, console, print_json


def breakdown(
    plan_ref: Annotated[
        str, typer.Argument(metavar="PLAN", help="A plan id (e.g. security-enclave) or file path.")
    ],
    root: RootOption = None,
    output_format: FormatOption = Format.text,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Add the proposed items as a '## Work breakdown' section and the milestones "
            "to the front matter; nothing else in the file changes.",
        ),
    ] = False,
) -> None:
    """Propose Milestones and work items from a prose plan's structure, with their reasons.

    Milestones come from phases, dated headings and roadmap-like sections; items from bullets
    under task-like sections, imperative bullets, TODO/TBD lines, uncovered RFC 2119
    requirements and linked issues. Nothing the plan already has is proposed again.
    """
    from rich.markup import escape

    from secplan.breakdown import propose, render_section, write_breakdown
    from secplan.config import find_config_root, load_config
    from secplan.errors import SecplanError, UnknownPlanError
    from secplan.handbook import load_handbook, resolve_plan_path
    from secplan.handbook.files import CATALOG_NAMES
    from secplan.lint.runner import is_outside_handbook

    handbook_root = root.resolve() if root else None
    given = Path(plan_ref).expanduser()
    if handbook_root is None:
        start = given.resolve().parent if given.is_file() else Path.cwd()
        handbook_root = find_config_root(start) or (start if given.is_file() else Path.cwd())
    path = resolve_plan_path(handbook_root, plan_ref)
    if path is None:
        raise UnknownPlanError(
            f"no plan '{plan_ref}' in the handbook at {handbook_root}",
            hint="Name a plan by its id (path without .md) or by its file path; "
            "use --root for another handbook.",
        )
    path = path.resolve()
    if handbook_root.resolve() not in path.parents:
        handbook_root = path.parent
    if path.parent == handbook_root.resolve() and path.name in CATALOG_NAMES:
        # `folder/index.md` outside a handbook is the plan `folder`, not a catalog page.
        handbook_root = path.parent.parent
    config = load_config(handbook_root)
    handbook = load_handbook(
        handbook_root,
        config,
        paths=[path],
        use_cache=not is_outside_handbook(handbook_root, config),
    )
    for error in handbook.errors:
        raise SecplanError(error.message, path=error.rel_path, line=error.line)
    plan = handbook.get(str(path))
    if plan is None:
        raise SecplanError(f"{plan_ref} is not a plan of the handbook at {handbook_root}")
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecplanError(f"cannot read the plan: {exc}", path=plan.rel_path) from None
    found = propose(plan, text)
    written = write_breakdown(path, plan, found) if write else False
    if output_format is Format.json:
        print_json(
            {
                "plan": plan.id,
                "path": plan.rel_path,
                "milestones": [m.to_dict() for m in found.milestones],
                "items": [i.to_dict() for i in found.items],
                "written": written,
            }
        )
        return
    if not found:
        console.print(f"{escape(plan.rel_path)}: nothing new to propose.")
        return
    for m in found.milestones:
        due = f", due {m.due}" if m.due else ""
        where = f"#{m.section}" if m.section else "front matter"
        console.print(
            f"milestone  {escape(m.title)}{due}  [dim]{escape(where)} line {m.line}, "
            f"{m.confidence:.1f}: {escape(m.reason)}[/]"
        )
    for i in found.items:
        console.print(
            f"{i.item_kind or 'task':<11}{escape(i.title)}  [dim]#{escape(i.section or '')} line "
            f"{i.line}, {i.confidence:.1f}: {escape(i.reason)}[/]"
        )
    if written:
        console.print(
            f"\nWrote {len(found.items)} items and {len(found.milestones)} milestones "
            f"to {escape(plan.rel_path)}"
        )
    else:
        console.print("\nWith --write, this is added (milestones go into the front matter):\n")
        console.print(escape(render_section(plan, found)), end="")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("breakdown")(breakdown)
