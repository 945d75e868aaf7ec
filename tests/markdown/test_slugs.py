"""Heading anchors: GitLab's documented rule and kramdown's auto_ids."""

from __future__ import annotations

import pytest

from secplan.markdown.slugs import SlugRegistry, gitlab_slug, kramdown_slug


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("This header has spaces in it", "this-header-has-spaces-in-it"),
        ("This header has a :thumbsup: in it", "this-header-has-a-thumbsup-in-it"),
        ("This header has Unicode in it: 한글", "this-header-has-unicode-in-it-한글"),
        ("This header has spaces in it??", "this-header-has-spaces-in-it"),
        ("Goals & Non-Goals", "goals-non-goals"),
        ("snake_case stays", "snake_case-stays"),
        ("2. Numbered", "2-numbered"),
        ("a -- b", "a-b"),
        ("2024", "anchor-2024"),
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),  # combining marks are letters' parts, kept
        ("x² ½", "x-"),  # superscripts and fractions are not \p{Word}
        ("tab\there", "tabhere"),
    ],
)
def test_gitlab_slug_follows_the_documented_rule(title: str, anchor: str) -> None:
    assert gitlab_slug(title) == anchor


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("Goals & Non-Goals", "goals--non-goals"),
        ("2. Numbered heading", "numbered-heading"),
        ("Café au lait", "caf-au-lait"),
        ("123", "section"),
        ("snake_case", "snakecase"),
    ],
)
def test_kramdown_slug_follows_auto_ids(title: str, anchor: str) -> None:
    assert kramdown_slug(title) == anchor


def test_repeats_get_numbered_suffixes_and_never_reuse_a_taken_id() -> None:
    registry = SlugRegistry()
    got = [registry.unique(s) for s in ("intro", "intro", "intro-1", "intro")]
    assert got == ["intro", "intro-1", "intro-1-1", "intro-2"]


def test_faithful_numbering_repeats_what_the_renderers_do() -> None:
    registry = SlugRegistry(faithful=True)
    got = [registry.unique(s) for s in ("intro", "intro", "intro-1", "intro")]
    assert got == ["intro", "intro-1", "intro-1", "intro-2"]
