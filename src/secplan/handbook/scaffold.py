"""``secplan new``: write a new plan from the template and add it to the catalog.

The template (``templates/plan.md``) shows the whole format — summary, goals and non-goals,
design, milestones, a work breakdown with a spike and an ordinary item, risks, SSOT — and passes
``secplan check`` at draft level without errors (its ``TODO`` markers are warnings that tell the
author what is left to write).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from string import Template

from secplan.errors import SecplanError, UsageError
from secplan.model import STATUSES
from secplan.refs import parse_epic_ref, parse_issue_ref

#: Files that would give a plan the same id as ``<slug>.md``.
_LAYOUTS = ("{}.md", "{}.html.md", "{}/index.md", "{}/index.html.md")


@dataclass
class ScaffoldResult:
    """The plan that was written and what happened to the catalog."""

    path: Path
    plan_id: str
    catalog_updated: bool = False
    catalog_note: str | None = None  # why the catalog was not updated, when it was not


def slugify(title: str) -> str:
    """A file-name slug: ASCII, lower-case, words joined by ``-`` (GitLab's anchor rule)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_\- ]", "", ascii_title.lower()).strip()
    slug = re.sub(r"[\s-]+", "-", slug).strip("-_")
    return slug[:80].rstrip("-")


def _template() -> Template:
    text = resources.files("secplan.handbook").joinpath("templates/plan.md").read_text("utf-8")
    return Template(text)


def _monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def render_plan(
    title: str,
    *,
    status: str = "draft",
    epic: str | None = None,
    source: str | None = None,
    today: date | None = None,
) -> str:
    """The text of a new plan (milestone dates start on the Monday after ``today``)."""
    start = _monday_after(today or date.today())
    refs = ""
    if epic:
        refs += f"epic: {json.dumps(epic)}\n"
    if source:
        refs += f"source: {json.dumps(source)}\n"
    return _template().substitute(
        title=json.dumps(title, ensure_ascii=False),  # a JSON string is a valid YAML scalar
        status=status,
        refs=refs,
        heading=" ".join(title.split()),
        # Group milestones are shared by every plan: named after the plan, two new plans'
        # "Discovery" milestones cannot collide.
        milestone_prefix=slugify(title) or "plan",
        discovery_start=start.isoformat(),
        discovery_due=(start + timedelta(days=11)).isoformat(),
        release_start=(start + timedelta(days=14)).isoformat(),
        release_due=(start + timedelta(days=53)).isoformat(),
    )


def _normalise_ref(value: str | None, kind: str, option: str) -> str | None:
    if value is None:
        return None
    ref = parse_epic_ref(value) if kind == "epic" else parse_issue_ref(value)
    if ref is None:
        example = "group/sub&16 or an epic URL" if kind == "epic" else "group/project#12 or a URL"
        raise UsageError(f"{option} {value!r} is not an {kind} reference", hint=f"Use {example}.")
    return str(ref)


def existing_plan_file(root: Path, slug: str) -> Path | None:
    """A file that already holds the plan id ``slug``, in any of the supported layouts."""
    for layout in _LAYOUTS:
        path = root / layout.format(slug)
        if path.exists():
            return path
    return None


def create_plan(
    root: Path,
    title: str,
    *,
    status: str = "draft",
    epic: str | None = None,
    source: str | None = None,
) -> Path:
    """Write ``<root>/<slug>.md`` from the template; never overwrites an existing plan."""
    if not title.strip():
        raise UsageError("the plan needs a title", hint='secplan new "Secrets rotation for CI"')
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}", hint=f"Use one of: {', '.join(STATUSES)}.")
    epic = _normalise_ref(epic, "epic", "--epic")
    source = _normalise_ref(source, "issue", "--source")
    slug = slugify(title)
    if not slug:
        raise UsageError(
            f"cannot make a file name from the title {title!r}",
            hint="Use a title with some letters or digits in it.",
        )
    if slug in ("index", "_index"):
        raise UsageError(
            f"the title {title!r} would make the file {slug}.md, the catalog page's name",
            hint="Pick a more specific title.",
        )
    if not root.is_dir():
        raise SecplanError(f"handbook root {root} is not a directory")
    existing = existing_plan_file(root, slug)
    if existing is not None:
        raise SecplanError(
            f"a plan with the id '{slug}' already exists",
            path=existing,
            hint="Pick another title, or edit the existing plan.",
        )
    path = root / f"{slug}.md"
    text = render_plan(title, status=status, epic=epic, source=source)
    try:
        # "x" mode: a file created between the check above and now is never overwritten.
        with path.open("x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except FileExistsError:
        raise SecplanError(f"{path.name} already exists", path=path) from None
    except OSError as exc:
        raise SecplanError(f"cannot write the plan: {exc.strerror or exc}", path=path) from None
    return path


def scaffold(
    root: Path,
    title: str,
    *,
    status: str = "draft",
    epic: str | None = None,
    source: str | None = None,
) -> ScaffoldResult:
    """Create the plan and add it to the catalog (when the catalog page has markers)."""
    from secplan.handbook import load_handbook
    from secplan.handbook.catalog import catalog_status, write_catalog

    path = create_plan(root, title, status=status, epic=epic, source=source)
    result = ScaffoldResult(path=path, plan_id=path.name.removesuffix(".md"))
    handbook = load_handbook(root)
    status_now = catalog_status(handbook)
    if status_now.path is None:
        result.catalog_note = (
            "the handbook has no catalog page; the plan is not listed anywhere ("
            "'secplan init' makes one)"
        )
    elif not status_now.has_markers:
        result.catalog_note = (
            f"{status_now.path.name} has no catalog markers; run 'secplan adopt' to manage it"
        )
    else:
        result.catalog_updated = write_catalog(handbook)
    return result
