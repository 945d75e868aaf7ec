"""Work items: the GitLab-style tokens in a task item's first line, acceptance and spikes.

Each syntax is one small function over the title text, so new tokens are easy to add.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from secplan.markdown.kramdown import strip_trailing_ial
from secplan.refs import parse_issue_ref

# The sigil comes first and the "not after a word" test looks back over it: the same matches
# as a leading lookbehind, but the regex engine can jump from sigil to sigil.
_MILESTONE = re.compile(r'%(?<!\S%)(?:"([^"]+)"|([^\s"]+))')
_LABEL = re.compile(r'~(?<!\S~)(?:"([^"]+)"|([\w.:\-/&+]+))')
_USER = re.compile(r"@(?<![\w.@/]@)([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])")
# Neither the link text nor the URL crosses a stray '[' (a URL may hold a bracketed part such as
# an IPv6 host), and the URL is taken possessively: each '[' then costs a scan to the next
# bracket, not to the end of the line (``[[[…](`` repeated was quadratic).
_MD_LINK = re.compile(
    r"\[([^\[\]]*)\]\(\s*<?((?:[^)\s>\[\]]|\[[^)\s>\[\]]*\])*+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_URL = re.compile(r"<?(https?://[^\s<>)]+)>?")
_SHORT_REF = re.compile(r"(?<![\w&/#])((?:[\w.\-]+/)+[\w.\-]+)?#(\d+)\b")
_EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z0-9_][\w\-.:]*)\}\s*$")
_TIMEBOX = re.compile(
    r"\(?\btime-?box(?:ed)?\b\s*:?\s*(?:to\s+|of\s+)?(\d+(?:\.\d+)?\s*(?:h|d|w|m|hours?|days?|weeks?|months?)\b)\)?",
    re.IGNORECASE,
)
_SPIKE = re.compile(r"^\s*(?:\*\*|__)?(spike|poc)\b\s*(?:\*\*|__)?\s*:", re.IGNORECASE)
_ACCEPTANCE = re.compile(
    r"^(?:[-*+]|\d+[.)])?\s*(?:\[[ xX]\]\s*)?(?:\*\*|__)?(acceptance(?: criteria)?|done when)"
    r"\s*:?(?:\*\*|__)?\s*:?\s*(.*)$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s{2,}")
_PUNCT = frozenset(".,;:!?")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])(?=\s|$)")


@dataclass
class TitleTokens:
    """A task item's first line, split into its title and the tokens taken out of it."""

    title: str
    milestone: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # as written: "#12", "g/p#12", URLs
    explicit_id: str | None = None
    timebox: str | None = None


def _take_explicit_id(text: str, tokens: TitleTokens) -> str:
    match = _EXPLICIT_ID.search(text) if "{#" in text else None
    if match:
        tokens.explicit_id = match.group(1)
        return text[: match.start()]
    return text


def _take_links(text: str, tokens: TitleTokens) -> str:
    """Issue links become refs; other Markdown links keep only their text."""

    def replace(match: re.Match[str]) -> str:
        url = match.group(2)
        if parse_issue_ref(url):
            tokens.refs.append(url)
            return " "
        return match.group(1)

    text = _MD_LINK.sub(replace, text) if "](" in text else text

    def replace_url(match: re.Match[str]) -> str:
        if parse_issue_ref(match.group(1)):
            tokens.refs.append(match.group(1))
            return " "
        return match.group(0)

    return _URL.sub(replace_url, text) if "http" in text else text


def _take_milestone(text: str, tokens: TitleTokens) -> str:
    def replace(match: re.Match[str]) -> str:
        tokens.milestone = (match.group(1) or match.group(2)).strip()
        return " "

    return _MILESTONE.sub(replace, text) if "%" in text else text


def _take_labels(text: str, tokens: TitleTokens) -> str:
    def replace(match: re.Match[str]) -> str:
        label = (match.group(1) or match.group(2)).strip()
        if label and label not in tokens.labels:
            tokens.labels.append(label)
        return " "

    return _LABEL.sub(replace, text) if "~" in text else text


def _take_users(text: str, tokens: TitleTokens) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in tokens.assignees:
            tokens.assignees.append(match.group(1))
        return " "

    return _USER.sub(replace, text) if "@" in text else text


def _take_refs(text: str, tokens: TitleTokens) -> str:
    def replace(match: re.Match[str]) -> str:
        tokens.refs.append(match.group(0))
        return " "

    return _SHORT_REF.sub(replace, text) if "#" in text else text


def _take_timebox(text: str, tokens: TitleTokens) -> str:
    match = _TIMEBOX.search(text) if _may_have_timebox(text) else None
    if not match:
        return text
    tokens.timebox = _SPACES.sub(" ", match.group(1)).strip()
    return text[: match.start()] + " " + text[match.end() :]


#: Applied in order, after the explicit id and links are taken and code spans are hidden.
TITLE_RULES = (
    _take_milestone,
    _take_labels,
    _take_users,
    _take_refs,
    _take_timebox,
)


# Issue titles are plain text: bold and emphasis markers go, their text stays.
_STRONG_OPEN = re.compile(r"(\*\*|__)(?=\S)")
_EMPHASIS = re.compile(r"\*(?<![\w*]\*)(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


class _Masked:
    """Code spans and plain URLs hidden from the token rules, put back afterwards."""

    def __init__(self) -> None:
        self.saved: list[str] = []

    def hide(self, pattern: re.Pattern[str], text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            self.saved.append(match.group(0))
            return f"\x00{len(self.saved) - 1}\x00"

        return pattern.sub(replace, text)

    def restore(self, text: str) -> str:
        if "\x00" not in text:
            return text
        return _PLACEHOLDER.sub(lambda m: self.saved[int(m.group(1))], text)


def split_title(raw: str) -> TitleTokens:
    """Take the GitLab-style tokens out of a task item's first line; what remains is the title.

    Text in inline code and URLs that are not issue links is never read as a token.
    """
    tokens = TitleTokens(title="")
    masked = _Masked()
    text = strip_trailing_ial(raw.strip().replace("\x00", ""))
    text = _take_explicit_id(text, tokens)
    text = masked.hide(_CODE_SPAN, text) if "`" in text else text
    text = _take_links(text, tokens)
    text = masked.hide(_URL, text) if "://" in text else text
    for rule in TITLE_RULES:
        text = rule(text, tokens)
    text = strip_strong(text) if "**" in text or "__" in text else text
    text = _EMPHASIS.sub(r"\1", text) if "*" in text else text
    text = masked.restore(text)
    text = _SPACES.sub(" ", text)
    if _PUNCT.intersection(text):
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    title = text.strip()
    # Tokens taken from the end leave dangling separators ("Fix it -", "Fix it ,").
    tokens.title = title.rstrip(" ,;-–—").strip() or title
    return tokens


def _closers(text: str, delim: str) -> list[int]:
    """Offsets of ``delim`` that may close strong text (a non-blank right before them)."""
    out: list[int] = []
    at = text.find(delim, 1)
    while at != -1:
        if not text[at - 1].isspace():
            out.append(at)
        at = text.find(delim, at + 1)
    return out


def strip_strong(text: str) -> str:
    """``text`` with ``**strong**`` / ``__strong__`` markers removed, their text kept.

    The same result as substituting ``(\\*\\*|__)(?=\\S)(.+?)(?<=\\S)\\1`` with its second
    group, in linear time: the closers of each delimiter are listed once and found by bisection,
    and a delimiter with no closer after one opener has none after any later opener either.
    """
    closers = {d: _closers(text, d) for d in ("**", "__")}
    out: list[str] = []
    done = 0  # text before this offset is in ``out``
    at = 0
    while (m := _STRONG_OPEN.search(text, at)) is not None:
        delim = m.group(1)
        positions = closers[delim]
        k = bisect_left(positions, m.end() + 1)  # at least one character of strong text
        if k == len(positions):
            closers[delim] = []  # no later opener of this delimiter can close either
            at = m.start() + 1
            continue
        close = positions[k]
        out.append(text[done : m.start()])
        out.append(text[m.end() : close])
        done = at = close + len(delim)
    out.append(text[done:])
    return "".join(out)


def is_spike(title: str) -> bool:
    """Items whose title starts with ``Spike:`` or ``PoC:``."""
    return bool(_SPIKE.match(title))


def _may_have_timebox(text: str) -> bool:
    # Every match holds "box" in some case (no other character case-folds to b, o or x;
    # "i" does: dotless and dotted I, so "time" would not be a safe test).
    return "box" in text.lower()


def find_timebox(text: str) -> str | None:
    """``3d`` from ``timebox: 3d`` or ``(timebox 1w)`` anywhere in ``text``."""
    match = _TIMEBOX.search(text) if _may_have_timebox(text) else None
    return _SPACES.sub(" ", match.group(1)).strip() if match else None


def has_question(text: str) -> bool:
    """Whether ``text`` asks something (a ``?`` outside URLs)."""
    return "?" in _URL.sub(" ", text) if "?" in text else False


def dedent_description(lines: list[str]) -> str:
    """The lines nested under an item, de-indented, blank edges trimmed (Markdown kept).

    The same result as ``textwrap.dedent`` on the joined lines (lines of only blanks and
    tabs become empty, the common leading blanks and tabs go), without its regexes.
    """
    kept: list[str] = []
    indents: list[str] = []
    for line in lines:
        body = line.lstrip(" \t")
        if body:
            indents.append(line[: len(line) - len(body)])
            kept.append(line)
        else:
            kept.append("")
    margin = _common_prefix_length(indents) if indents else 0
    if margin:
        kept = [line[margin:] for line in kept]
    return "\n".join(kept).strip("\n")


def _common_prefix_length(values: list[str]) -> int:
    first, last = min(values), max(values)  # the common prefix of all is theirs
    for n, char in enumerate(first):
        if char != last[n]:
            return n
    return len(first)


def acceptance_criteria(description: str) -> list[str]:
    """Criteria from nested lines/items starting with ``Acceptance:`` or ``Done when:``.

    ``Acceptance: text`` gives one criterion; an ``Acceptance:`` line with nothing after it
    takes the list items nested or following right below it.
    """
    criteria: list[str] = []
    lowered = description.lower()
    if "acceptance" not in lowered and "done when" not in lowered:
        return criteria
    lines = description.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        match = _ACCEPTANCE.match(stripped) if stripped else None
        i += 1
        if not match:
            continue
        rest = match.group(2).strip()
        if rest:
            criteria.append(rest)
            continue
        while i < len(lines):
            follow = lines[i].strip()
            item = re.match(r"^(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+)$", follow)
            if not item:
                break
            criteria.append(item.group(1).strip())
            i += 1
    return criteria
