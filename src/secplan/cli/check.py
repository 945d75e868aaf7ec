"""Command: ``secplan check`` — is each plan ready? Ruff-like findings with stable rule codes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from secplan.cli import check_run
from secplan.cli.common import DatabaseUrlOption, RootOption


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    gitlab = "gitlab"
    sarif = "sarif"
    github = "github"


class Requirement(StrEnum):
    ready = "ready"


def check(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH",
            help="Plan files, folders or plan ids; a handbook folder is checked whole. "
            "Default: the handbook at --root or the current directory.",
            show_default=False,
        ),
    ] = None,
    root: RootOption = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = OutputFormat.text,
    require: Annotated[
        Requirement | None,
        typer.Option(
            "--require",
            help="Judge every draft/review plan as if it were ready ('is it done?').",
            show_default=False,
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select", help="Only these rules: codes, prefixes (SP3) or names; repeatable."
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Skip these rules: codes, prefixes or names; repeatable."),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Fix what can be fixed safely (the catalog table).")
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when errors are found.")
    ] = False,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Count findings per rule instead of listing them.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Check plans: exit 0 when no finding is an error, 1 when one is, 2 on a usage error.

    Warnings alone exit 0. A warning-level rule becomes an error once a plan is `ready` or
    later, or for every plan with --require ready.
    """
    code = check_run.run(
        paths or [],
        root,
        output_format.value,
        require_ready=require is Requirement.ready,
        select=select,
        ignore=ignore,
        fix=fix,
        exit_zero=exit_zero,
        statistics=statistics,
        database_url=database_url,
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("check")(check)
