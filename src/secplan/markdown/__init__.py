"""Markdown: everything that knows the plan syntax (front matter, anchors, items, requirements).

Public API:

- :func:`parse_plan` — parse one plan's text into a :class:`~secplan.model.Plan`.
- :func:`slugify` / :func:`gitlab_slug` / :func:`kramdown_slug` — heading anchors.
- :data:`KNOWN_KEYS` — the front-matter keys secplan understands (others are SP105).
- :data:`PARSER_VERSION` — changes whenever parse results change (cache key).
"""

from secplan.markdown.frontmatter import KNOWN_KEYS, split_front_matter
from secplan.markdown.parser import PARSER_VERSION, parse_plan
from secplan.markdown.slugs import gitlab_slug, kramdown_slug, slugify

__all__ = [
    "KNOWN_KEYS",
    "PARSER_VERSION",
    "gitlab_slug",
    "kramdown_slug",
    "parse_plan",
    "slugify",
    "split_front_matter",
]
