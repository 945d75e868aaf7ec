"""What other handbooks write: static-site front-matter keys and their own status words.

Real planning pages come from Middleman/Hugo/Jekyll handbooks, GitLab design documents and
Kubernetes KEPs. Their front matter carries keys secplan does not use (kept untouched, not
reported by SP105) and status words of their own, which map onto secplan's statuses. A
handbook extends both with ``known_keys = [...]`` and ``statuses = {word = "status"}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from secplan.config import Config
from secplan.handbook.kep import KEP_METADATA, apply_kep_metadata
from secplan.model import STATUSES, Plan

#: Keys static-site generators and the document families above put in front matter.
STATIC_SITE_KEYS: frozenset[str] = frozenset(
    {
        # Middleman / Hugo / Jekyll pages
        "layout",
        "description",
        "canonical_path",
        "aliases",
        "weight",
        "menu",
        "tags",
        "categories",
        "draft",
        "date",
        "lastmod",
        "slug",
        "url",
        "type",
        "toc",
        "summary",
        "author",
        "redirect_to",
        "noindex",
        "extra_js",
        "extra_css",
        "permalink",
        # docs.gitlab.com pages
        "stage",
        "group",
        "info",
        "comments",
        "remove_date",
        "ignore_in_report",
        # OWASP project pages (Jekyll tabs)
        "tab",
        "order",
        "displaytext",
        "pitch",
        "level",
        # GitLab design documents
        "creation-date",
        "authors",
        "coach",
        "approvers",
        "owning-stage",
        "participating-stages",
        "toc_hide",
    }
)

#: Keys of a KEP's kep.yaml (accepted on KEPs only: `milestone:` is a typo anywhere else).
KEP_KEYS: frozenset[str] = frozenset(
    {
        "kep-number",
        "owning-sig",
        "participating-sigs",
        "reviewers",
        "editor",
        "see-also",
        "replaces",
        "superseded-by",
        "stage",
        "latest-milestone",
        "milestone",
        "feature-gates",
        "disable-supported",
        "metrics",
        "prr-approvers",
        "last-updated",
    }
)

#: Status words of GitLab design documents and KEPs -> secplan statuses.
#: ``postponed`` and ``deferred`` plans will come back, so they are drafts again (judged
#: leniently, never escalated); rejected and withdrawn ones are abandoned.
DEFAULT_STATUS_WORDS: dict[str, str] = {
    # GitLab design documents
    "proposed": "review",
    "accepted": "ready",
    "ongoing": "implementing",
    "implemented": "implemented",
    "rejected": "abandoned",
    "postponed": "draft",
    # KEPs
    "provisional": "review",
    "implementable": "ready",
    "deferred": "draft",
    "withdrawn": "abandoned",
    "replaced": "superseded",
}


def known_keys(config: Config, plan_keys: Iterable[str]) -> frozenset[str]:
    """Keys SP105 accepts: the plan format's own, the static-site defaults and ``known_keys``."""
    return frozenset(plan_keys) | STATIC_SITE_KEYS | frozenset(config.known_keys)


def status_words(config: Config) -> dict[str, str]:
    """Status word (lower case) -> secplan status: the defaults, overridden by ``statuses``."""
    words = dict(DEFAULT_STATUS_WORDS)
    words.update({k.strip().lower(): v for k, v in config.statuses.items()})
    return words


def map_status(raw: str, words: dict[str, str]) -> str | None:
    """secplan's status for a status word as written; None when it is not one."""
    word = raw.strip().lower()
    if word in STATUSES and word not in words:
        return word
    return words.get(word)


def is_kep(plan: Plan) -> bool:
    """Whether the plan's front matter came from a KEP's kep.yaml."""
    return "kep-number" in plan.front_matter


def apply_conventions(plans: Iterable[Plan], config: Config) -> None:
    """KEPs read their kep.yaml; other handbooks' status words become secplan statuses."""
    words = status_words(config)
    for plan in plans:
        apply_kep_metadata(plan, config.group)
        raw = plan.front_matter.get("status")
        if isinstance(raw, str):
            mapped = map_status(raw, words)
            if mapped is not None:
                plan.status = mapped


#: Files every code repository has; outside a handbook they are not plans.
REPOSITORY_FILES: frozenset[str] = frozenset(
    {
        "readme",
        "changelog",
        "changes",
        "history",
        "news",
        "contributing",
        "code_of_conduct",
        "code-of-conduct",
        "security",
        "support",
        "license",
        "licence",
        "authors",
        "contributors",
        "maintainers",
        "owners",
        "governance",
        "notice",
        "pull_request_template",
        "issue_template",
    }
)


def is_repository_file(path: Path) -> bool:
    """Whether ``path`` is a repository's README/CHANGELOG/CONTRIBUTING... rather than a plan.

    Used only outside a handbook (no configuration, no catalog page), where a tree of
    Markdown is most likely a code repository. A README beside a ``kep.yaml`` is a KEP, so a
    plan.
    """
    stem = path.name.lower().removesuffix(".md").removesuffix(".html")
    if stem not in REPOSITORY_FILES:
        return False
    return not (stem == "readme" and (path.parent / KEP_METADATA).is_file())
