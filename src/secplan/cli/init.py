"""Command: ``secplan init [DIR]`` (a working handbook in one command)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from secplan.cli.common import console, err_console


def _interactive() -> bool:
    """Ask only a person: stdin and stdout both terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def init(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR", help="Folder of the new handbook (default: the current directory)."
        ),
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="GitLab group of the epics, e.g. security.")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Project new issues go to, e.g. security/planning."),
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Where issues live: local or gitlab.")
    ] = None,
    gitlab_url: Annotated[
        str | None,
        typer.Option("--gitlab-url", help="GitLab instance URL (with --backend gitlab)."),
    ] = None,
    ci: Annotated[
        bool, typer.Option("--ci", help="Also write .gitlab-ci.yml (check, plan, apply, pages).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that differ from what init writes.")
    ] = False,
) -> None:
    """Create a handbook: secplan.toml, a catalog page, an example plan, .secplan/ ignored.

    Asks for missing values only when run on a terminal; otherwise uses the existing
    secplan.toml's values or the defaults, and says which. Refuses to overwrite a file that
    says something else (--force does); running it again changes nothing.
    """
    from secplan.handbook.bootstrap import (
        DEFAULT_BACKEND,
        DEFAULT_GITLAB_URL,
        DEFAULT_GROUP,
        InitSettings,
        existing_settings,
        init_handbook,
    )

    root = (directory or Path.cwd()).resolve()
    known = existing_settings(root)
    ask = _interactive()
    defaulted: list[str] = []

    def value(name: str, given: str | None, default: str, question: str) -> str:
        if given is not None:
            return given
        if name in known:
            return known[name]
        if ask:
            return str(typer.prompt(question, default=default))
        defaulted.append(f"{name.replace('_', '-')} {default}")
        return default

    group_v = value("group", group, DEFAULT_GROUP, "GitLab group for epics")
    project_v = value("project", project, f"{group_v}/planning", "Project for new issues")
    backend_v = value("backend", backend, DEFAULT_BACKEND, "Tracker backend (local or gitlab)")
    url_v = gitlab_url or known.get("gitlab_url")
    if backend_v == "gitlab" and not url_v:
        url_v = value("gitlab_url", None, DEFAULT_GITLAB_URL, "GitLab URL")
    settings = InitSettings(group_v, project_v, backend_v, url_v)
    result = init_handbook(root, settings, ci=ci, force=force)

    if defaulted:
        err_console.print(
            "Note: not a terminal, so nothing was asked; using "
            + escape(", ".join(f"--{d}" for d in defaulted))
        )
    where = escape(str(root))
    for name in result.written:
        console.print(f"Wrote {escape(name)}")
    for name in result.kept:
        console.print(f"Kept {escape(name)} (already there)")
    if result.gitignore != "present":
        verb = "Created" if result.gitignore == "created" else "Added .secplan/ to"
        console.print(f"{verb} .gitignore" + (" (ignores .secplan/)" if verb == "Created" else ""))
    if not result.written and result.gitignore == "present":
        console.print(f"Nothing to do: {where} is already a secplan handbook")
    else:
        console.print(f"Handbook ready in {where}: try 'secplan check'")
    if ci and backend_v != "gitlab":
        err_console.print(
            "Note: the CI jobs plan and apply need the tracker in GitLab (--backend gitlab) "
            "or a shared database_url; CI runners keep no local tracker between pipelines"
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("init")(init)
