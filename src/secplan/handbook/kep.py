"""Kubernetes Enhancement Proposals: a KEP's ``kep.yaml`` is the front matter of its README.

A KEP directory holds ``README.md`` (the prose, no front matter) and ``kep.yaml`` (the
metadata). The loader reads the YAML here and maps its fields onto the plan's (see
docs/plan-format.md, "KEPs"); every KEP key is kept in ``plan.front_matter`` as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from secplan.model import Diagnostic, Plan

KEP_METADATA = "kep.yaml"
#: kep.yaml is small; anything much larger is not one.
MAX_KEP_BYTES = 256 * 1024


def kep_metadata_path(plan: Plan) -> Path | None:
    """The ``kep.yaml`` beside a plan's README, if the plan is a KEP without front matter."""
    if plan.path.name.lower() != "readme.md" or plan.front_matter:
        return None
    candidate = plan.path.parent / KEP_METADATA
    return candidate if candidate.is_file() else None


def _plan_fields(kep: dict[str, Any]) -> dict[str, Any]:
    """The plan-format keys a KEP's metadata stands for."""
    mapped: dict[str, Any] = {}
    authors = kep.get("authors")
    if isinstance(authors, list):
        mapped["owners"] = [str(a) for a in authors if isinstance(a, str | int)]
    sig = kep.get("owning-sig")
    if isinstance(sig, str) and sig.strip():
        mapped["labels"] = [sig.strip()]
    stages = kep.get("milestone")
    if isinstance(stages, dict):
        mapped["milestones"] = [
            {"title": str(stage), "description": f"Kubernetes {release}"}
            for stage, release in stages.items()
            if release not in (None, "")
        ]
    links = [
        str(x)
        for key in ("see-also", "replaces")
        if isinstance(kep.get(key), list)
        for x in kep[key]
        if isinstance(x, str) and x.strip()
    ]
    if links:
        mapped["resources"] = [{"title": link, "url": link} for link in links]
    return mapped


def apply_kep_metadata(plan: Plan, default_group: str | None = None) -> bool:
    """Fill ``plan`` from the ``kep.yaml`` beside it; False when it is not a KEP."""
    path = kep_metadata_path(plan)
    if path is None:
        return False
    try:
        data = path.read_bytes()[: MAX_KEP_BYTES + 1]
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        plan.diagnostics.append(Diagnostic("SP106", f"{KEP_METADATA} cannot be read: {exc}", 1))
        return True
    if len(data) > MAX_KEP_BYTES:
        plan.diagnostics.append(Diagnostic("SP106", f"{KEP_METADATA} is too large", 1))
        return True
    # YAML only for a KEP: most handbooks have none, and a warm check then parses nothing.
    from secplan.markdown.frontmatter import FrontMatter, apply_front_matter, read_front_matter

    read = read_front_matter(text, first_line=1)
    for problem in read.diagnostics:
        # Reported on the plan, but the line is kep.yaml's: say so.
        plan.diagnostics.append(
            Diagnostic(problem.code, f"{KEP_METADATA}:{problem.line}: {problem.message}", 1)
        )
    if not read.data:
        return True
    fm = FrontMatter(data={**read.data, **_plan_fields(read.data)}, first_line=1)
    apply_front_matter(plan, fm, default_group=default_group)
    return True
