"""Commands: ``secplan review comments MR_REF`` and ``secplan review request MR_REF PLAN#anchor
TEXT`` — review of plans in GitLab merge requests."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from secplan.cli.common import Format, FormatOption, RootOption, print_json, resolve_root

if TYPE_CHECKING:
    from secplan.config import Config
    from secplan.refs import MergeRequestRef
    from secplan.review.mr import MrReview
    from secplan.tracker.gitlab.merge_requests import MergeRequestApi

review_app = typer.Typer(
    help="Review plans in GitLab merge requests: list the threads by section, ask for review.",
    no_args_is_help=True,
)

MrRefArgument = Annotated[
    str,
    typer.Argument(
        metavar="MR_REF",
        help="The merge request: group/project!12, !12 (in the configured tracker) or its URL.",
    ),
]


def _mr_ref(text: str, config: Config) -> MergeRequestRef:
    from secplan.errors import UsageError
    from secplan.refs import parse_mr_ref

    ref = parse_mr_ref(text, default_project=config.tracker)
    if ref is None:
        raise UsageError(
            f"not a merge request reference: {text!r}",
            hint="Write group/project!12, a merge request URL, or !12 with `tracker` set in "
            "secplan.toml.",
        )
    return ref


@contextmanager
def _api(config: Config, ref: MergeRequestRef) -> Iterator[MergeRequestApi]:
    from secplan.errors import UsageError
    from secplan.tracker.gitlab.client import GitLabClient
    from secplan.tracker.gitlab.merge_requests import MergeRequestApi
    from secplan.tracker.gitlab.token import resolve_token

    if not config.gitlab_url:
        raise UsageError(
            "review in merge requests needs gitlab_url",
            hint='Add `gitlab_url = "https://gitlab.example.com"` to secplan.toml.',
        )
    client = GitLabClient(config.gitlab_url, resolve_token(config.token_command))
    try:
        yield MergeRequestApi(client, ref)
    finally:
        client.close()


def _line(review: MrReview, prefix: str) -> Iterator[str]:
    from secplan.termsafe import termsafe

    for t in review.threads:
        path = t.file[len(prefix) + 1 :] if prefix and t.file.startswith(prefix + "/") else t.file
        where = f"#{t.anchor}" if t.anchor else "(no section)"
        state = "resolved" if t.resolved else "open"
        flags = "".join(
            f" ({flag})"
            for flag, on in (
                ("outdated", t.outdated),
                ("removed line", t.side == "old" and not t.outdated),
                ("note", t.kind == "note"),
            )
            if on
        )
        first = next((s.strip() for s in t.body.splitlines() if s.strip()), "")
        if len(first) > 160:  # one line per thread, as a linter prints
            first = first[:159] + "…"
        line = t.line if t.line is not None else 1
        yield termsafe(f"{path}:{line}: {where} [{state}]{flags} {t.author}: {first}")


@review_app.command("comments")
def comments(
    mr_ref: MrRefArgument,
    root: RootOption = None,
    output_format: FormatOption = Format.text,
) -> None:
    """List the merge request's discussions on plan files, by plan, section and line.

    The threads are also kept in .secplan/ for `secplan check` (SP501) and the web UI.
    """
    from secplan.config import load_config
    from secplan.review.mr import collect_threads, repo_prefix, save_review

    handbook_root = resolve_root(root)
    config = load_config(handbook_root)
    ref = _mr_ref(mr_ref, config)
    prefix = repo_prefix(handbook_root)
    with _api(config, ref) as api:
        review = collect_threads(api, str(ref), prefix=prefix, flavour=config.anchor_flavour)
    save_review(handbook_root, review)
    if output_format is Format.json:
        print_json(review.to_json())
        return
    for text in _line(review, prefix):
        typer.echo(text)
    open_count = sum(1 for t in review.threads if t.resolvable and not t.resolved)
    typer.echo(
        f"{len(review.threads)} thread{'s' if len(review.threads) != 1 else ''} on plans "
        f"({open_count} open) in {ref}"
        + (f"; {review.skipped} elsewhere" if review.skipped else "")
    )


@review_app.command("request")
def request(
    mr_ref: MrRefArgument,
    target: Annotated[
        str, typer.Argument(metavar="PLAN#anchor", help="The plan and the section to review.")
    ],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to ask the reviewers.")],
    root: RootOption = None,
) -> None:
    """Start a review thread on a section's heading in the merge request's diff.

    When the heading is outside the diff, a plain note linking the section is posted instead.
    Prints the thread's (or note's) URL.
    """
    from secplan.config import load_config
    from secplan.errors import NotFoundError, UsageError
    from secplan.handbook import resolve_plan_path
    from secplan.handbook.files import plan_id, rel_path_of
    from secplan.markdown import parse_plan
    from secplan.review.mr import repo_prefix, request_review

    handbook_root = resolve_root(root)
    config = load_config(handbook_root)
    ref = _mr_ref(mr_ref, config)
    plan_ref, sep, anchor = target.partition("#")
    if not sep or not anchor or not plan_ref:
        raise UsageError(
            f"name a plan and a section as PLAN#anchor, not {target!r}",
            hint="For example: secrets-rotation#rollout (see `secplan show PLAN` for anchors).",
        )
    if not text.strip():
        raise UsageError("the review request's TEXT is empty")
    path = resolve_plan_path(handbook_root, plan_ref)
    if path is None:
        raise NotFoundError(
            f"no plan '{plan_ref}' in the handbook at {handbook_root}",
            hint="Name the plan by its id (its path without .md).",
        )
    rel = rel_path_of(handbook_root, path)
    prefix = repo_prefix(handbook_root)
    repo_path = f"{prefix}/{rel}" if prefix else rel
    with _api(config, ref) as api:
        head = str((api.get().get("diff_refs") or {}).get("head_sha") or "")
        source = api.file_text(repo_path, head) if head else None
        if source is None:
            raise NotFoundError(
                f"{repo_path} is not in {ref}'s source branch",
                hint="Push the plan to the merge request's branch first.",
            )
        plan = parse_plan(source, plan_id=plan_id(rel), rel_path=rel, flavour=config.anchor_flavour)
        if plan.section(anchor) is None:
            known = [s.anchor for s in plan.sections]
            close = difflib.get_close_matches(anchor, known, n=5, cutoff=0.5)
            raise NotFoundError(
                f"no section #{anchor} in {rel} (as {ref} has it)",
                path=rel,
                hint=("Did you mean: " + ", ".join(f"#{a}" for a in close) + "?")
                if close
                else "Sections: " + (", ".join(f"#{a}" for a in known[:12]) or "none"),
            )
        made = request_review(api, repo_path=repo_path, plan=plan, anchor=anchor, text=text)
    where = "thread on" if made.kind == "diff" else "note (heading outside the diff) for"
    typer.echo(f"Started a {where} {rel}:{made.line} #{anchor}", err=True)
    typer.echo(made.url)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


__all__ = ["register"]
