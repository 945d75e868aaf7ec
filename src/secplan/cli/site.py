"""Command: ``secplan build`` — the web UI's pages as a static site (GitLab Pages)."""

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
)


def build(
    root: RootOption = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the site to.", file_okay=False)
    ] = Path("public"),
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Prefix every link with this URL (e.g. https://group.gitlab.io/project/); "
            "default: links relative to each page, so the site works under any path.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    search: Annotated[
        bool, typer.Option("--search/--no-search", help="Build the Pagefind search index.")
    ] = True,
    list_external: Annotated[
        bool, typer.Option("--list-external", help="List every external link (never fetched).")
    ] = False,
    allow_broken_links: Annotated[
        bool,
        typer.Option("--allow-broken-links", help="Exit 0 even when the link check finds some."),
    ] = False,
    fmt: FormatOption = Format.text,
) -> None:
    """Write the catalog, every plan, epics, board and charts as a static site.

    Uses the web UI's templates without its forms; tracker data is read when the tracker
    database exists (never created). A second build rewrites only what changed. Internal
    links and anchors are checked (exit 1 on a broken one, with the plan's file:line).
    """
    # Not the builder: a build where nothing changed needs none of the web UI's modules.
    from secplan.site.fastpath import build as build_site

    report = build_site(
        resolve_root(root),
        out,
        base_url=base_url,
        database_url=database_url,
        search=search,
    )
    if fmt is Format.json:
        print_json(report.to_json())
    else:
        for warning in report.warnings:
            err_console.print(f"Warning: {escape(warning)}")
        # One print of many lines: rich's cost is per call (thousands on a big handbook).
        if report.broken:
            err_console.print("\n".join(escape(str(broken)) for broken in report.broken))
        if list_external and report.external:
            console.print(
                "\n".join(
                    f"{escape(link.source)}:{link.line}: external {escape(link.url)}"
                    for link in report.external
                )
            )
        err_console.print(
            f"Built {report.out}: {report.plans_total} plans ({report.plans_rebuilt} rebuilt), "
            f"{len(report.written)} files written, {report.kept} unchanged, "
            f"{len(report.removed)} removed, {report.assets} assets; "
            f"{'search index' if report.search else 'no search index'}; "
            f"{'tracker data' if report.tracker else 'no tracker data'}; "
            f"{len(report.broken)} broken links, {len(report.external)} external links "
            f"(not checked) in {report.seconds:.2f}s"
        )
    if report.broken and not allow_broken_links:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("build")(build)
