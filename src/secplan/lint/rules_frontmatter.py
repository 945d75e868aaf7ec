"""SP1xx: front matter — title, status, references, dates, unknown keys, YAML itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from secplan.handbook.conventions import KEP_KEYS, is_kep, map_status
from secplan.lint.context import LintContext, front_matter_broken, key_line
from secplan.lint.registry import Finding, declare, rule
from secplan.model import STATUSES, Plan

declare(
    "SP100",
    "unreadable-file",
    "error",
    "A file under the handbook could not be read as a plan (binary, invalid UTF-8, too large, "
    "a symlink leaving the root).",
)
declare(
    "SP106",
    "invalid-front-matter",
    "error",
    "The front matter is not valid YAML, or is not a mapping.",
)


@rule(
    "SP101",
    "missing-title",
    "error",
    summary="The front matter has no `title`, and no top-level heading titles the plan.",
)
def missing_title(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """The front matter has no non-empty ``title``."""
    if front_matter_broken(plan):
        return
    title = plan.front_matter.get("title")
    if "title" not in plan.front_matter:
        if plan.title is None:  # a first `# Heading` titles the plan as well
            yield Finding("SP101", "plan has no `title` in its front matter nor a `# ` heading", 1)
    elif not isinstance(title, str | int | float) or not str(title).strip():
        yield Finding("SP101", "`title` is empty", key_line(plan, "title"))


@rule("SP102", "invalid-status", "error", summary="`status` is not one of the known statuses.")
def invalid_status(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """``status`` is not one of draft, review, ready, implementing, implemented, ..."""
    if "status" not in plan.front_matter:
        return
    raw = plan.front_matter["status"]
    words = ctx.status_words
    if isinstance(raw, str) and map_status(raw, words) is not None:
        return  # read case-insensitively; the handbook's own words are mapped (`statuses`)
    yield Finding(
        "SP102",
        f"invalid status {raw!r}; expected one of {', '.join(STATUSES)} "
        "(or a word mapped by `statuses` in the configuration)",
        key_line(plan, "status"),
    )


@rule(
    "SP103",
    "invalid-reference",
    "error",
    summary="`epic`, `source`, an item's issue reference or `superseded_by` cannot be parsed.",
)
def invalid_reference(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A reference in front matter (epic, source) is not a GitLab reference or URL."""
    # Imported here: a warm check loads every rule but runs none, and refs compiles its
    # patterns when imported.
    from secplan.refs import parse_epic_ref, parse_issue_ref

    references = (
        (
            "epic",
            parse_epic_ref,
            ctx.config.group,
            "an epic reference (`group/sub&16` or an epic URL)",
        ),
        (
            "source",
            parse_issue_ref,
            ctx.config.tracker,
            "an issue reference (`group/project#12` or an issue URL)",
        ),
    )
    for key, parse, default, expected in references:
        value = plan.front_matter.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or parse(value, default) is None:
            yield Finding("SP103", f"`{key}` {value!r} is not {expected}", key_line(plan, key))


def _valid_date(value: Any) -> bool:
    if isinstance(value, dt.date):  # YAML reads 2026-01-31 as a date already
        return True
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            return False
        return True
    return False


@rule("SP104", "invalid-date", "error", summary="A milestone date is invalid, or starts after due.")
def invalid_date(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A milestone ``due``/``start`` is not YYYY-MM-DD, or ``start`` is after ``due``."""
    raw_list = plan.front_matter.get("milestones")
    lines = {m.title: m.line for m in plan.milestones}
    fallback = key_line(plan, "milestones")
    if isinstance(raw_list, list):
        for raw in raw_list:
            if not isinstance(raw, dict):
                continue
            title = str(raw.get("title", ""))
            for key in ("due", "start"):
                value = raw.get(key)
                if value not in (None, "") and not _valid_date(value):
                    yield Finding(
                        "SP104",
                        f"milestone {title!r}: `{key}` {value!r} is not a date (YYYY-MM-DD)",
                        lines.get(title, fallback),
                    )
    for m in plan.milestones:
        if m.start and m.due and m.start > m.due:
            yield Finding(
                "SP104",
                f"milestone {m.title!r} starts ({m.start}) after it is due ({m.due})",
                m.line,
            )


@rule(
    "SP105",
    "unknown-key",
    "info",
    summary="A front-matter key that is not part of the plan format (kept untouched).",
    escalates=False,
)
def unknown_key(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A front-matter key neither the plan format, static sites nor ``known_keys`` define."""
    known = ctx.known_keys | KEP_KEYS if is_kep(plan) else ctx.known_keys
    for key in plan.front_matter:
        if key not in known:
            yield Finding(
                "SP105",
                f"unknown front-matter key `{key}` (kept as is)",
                key_line(plan, str(key)),
            )
