"""Heading anchors in the flavours handbooks are published with: GitLab, kramdown and GitHub."""

from __future__ import annotations

import re
import unicodedata

# GitLab keeps Ruby's \p{Word} (letters, marks, decimal and letter numbers, connector
# punctuation), '-' and spaces. Python's \w differs outside ASCII (no marks, all numbers).
_ASCII_DROP = re.compile(r"[^A-Za-z0-9_\- ]")
_WORD_CATEGORIES = frozenset({"Nd", "Nl", "Pc"})
_DIGITS_ONLY = re.compile(r"\A\d+\Z")
_DASHES = re.compile(r"-{2,}")
_KRAMDOWN_LEADING = re.compile(r"^[^a-zA-Z]+")
_KRAMDOWN_DROP = re.compile(r"[^a-zA-Z0-9 \-]")


def _keep_word(char: str) -> bool:
    if char in "- ":
        return True
    category = unicodedata.category(char)
    return category[0] in "LM" or category in _WORD_CATEGORIES


def gitlab_slug(text: str) -> str:
    """GitLab's rule: lower-case, drop all but letters/digits/_/-/space, spaces to '-', squeeze.

    Like GitLab, an anchor of digits only gets an ``anchor-`` prefix (it would read as an
    issue reference otherwise).
    """
    lowered = text.strip().lower()
    if lowered.isascii():
        kept = _ASCII_DROP.sub("", lowered)
    else:
        kept = "".join(c for c in lowered if _keep_word(c))
    slug = _DASHES.sub("-", kept.replace(" ", "-"))
    return f"anchor-{slug}" if _DIGITS_ONLY.match(slug) else slug


def github_slug(text: str) -> str:
    """GitHub's rule: GitLab's, except that runs of '-' are kept and digits need no prefix.

    ``## A -- B`` is ``a----b`` on GitHub and ``a-b`` on GitLab.
    """
    lowered = text.strip().lower()
    if lowered.isascii():
        kept = _ASCII_DROP.sub("", lowered)
    else:
        kept = "".join(c for c in lowered if _keep_word(c))
    return kept.replace(" ", "-")


def kramdown_slug(text: str) -> str:
    """kramdown's auto_ids: strip leading non-letters, keep [a-zA-Z0-9 -], spaces to '-'."""
    slug = _KRAMDOWN_LEADING.sub("", text)
    slug = _KRAMDOWN_DROP.sub("", slug).replace(" ", "-").lower()
    return slug or "section"


def slugify(text: str, flavour: str = "gitlab") -> str:
    """The anchor a heading with this text gets in ``flavour`` (before de-duplication)."""
    if flavour == "kramdown":
        return kramdown_slug(text)
    return github_slug(text) if flavour == "github" else gitlab_slug(text)


class SlugRegistry:
    """Numbers repeats the way both renderers do: the second ``x`` is ``x-1``, then ``x-2``...

    GitLab and kramdown count repeats per base text only, so a heading literally titled
    ``Intro 1`` after two ``Intro`` headings gets ``intro-1`` a second time; ``faithful=True``
    (headings) reproduces that. The default never hands out an id twice (work item ids).
    """

    def __init__(self, *, faithful: bool = False) -> None:
        self._counts: dict[str, int] = {}
        self._used: set[str] = set()
        self._faithful = faithful

    def unique(self, slug: str) -> str:
        """``slug`` itself the first time, then ``slug-1``, ``slug-2``..."""
        if slug not in self._counts and (self._faithful or slug not in self._used):
            self._counts[slug] = 0
            self._used.add(slug)
            return slug
        n = self._counts.get(slug, 0)
        while True:
            n += 1
            candidate = f"{slug}-{n}"
            if self._faithful or candidate not in self._used:
                self._counts[slug] = n
                self._used.add(candidate)
                return candidate
