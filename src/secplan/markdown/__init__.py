"""Markdown: everything that knows the plan syntax (front matter, anchors, items, requirements).

Public API:

- :func:`parse_plan` — parse one plan's text into a :class:`~secplan.model.Plan`.
- :func:`slugify` / :func:`gitlab_slug` / :func:`kramdown_slug` — heading anchors.
- :data:`KNOWN_KEYS` — the front-matter keys secplan understands (others are SP105).
- :data:`PARSER_VERSION` — changes whenever parse results change (cache key).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secplan.markdown.frontmatter import KNOWN_KEYS, split_front_matter
    from secplan.markdown.parser import parse_plan
    from secplan.markdown.slugs import gitlab_slug, kramdown_slug, slugify
    from secplan.markdown.version import PARSER_VERSION

# Imported on first use: a warm check reads plans from the cache and never loads the parser.
_HOME = {
    "KNOWN_KEYS": "frontmatter",
    "split_front_matter": "frontmatter",
    "PARSER_VERSION": "version",
    "parse_plan": "parser",
    "gitlab_slug": "slugs",
    "kramdown_slug": "slugs",
    "slugify": "slugs",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "KNOWN_KEYS",
    "PARSER_VERSION",
    "gitlab_slug",
    "kramdown_slug",
    "parse_plan",
    "slugify",
    "split_front_matter",
]
