"""YAML front matter: split it off the body, read it safely, and fill the plan's fields.

The YAML is read once with PyYAML's C loader; the composed node tree gives every key its
file line. Aliases are allowed but their expansion is bounded (a "billion laughs" document
is refused with SP106), and so is nesting depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from secplan.markdown.fields import KNOWN_KEYS as _FIELD_KEYS
from secplan.model import STATUSES, Diagnostic, Link, Milestone, Plan
from secplan.refs import MAX_IID, iid_too_large, parse_epic_ref, parse_issue_ref

try:  # the C loader is much faster; fall back so a build without libyaml still works
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """The safe loader, except that an impossible timestamp stays a string.

    ``due: 2026-13-01`` must become an SP104 on that milestone, not an SP106 that loses the
    whole front matter.
    """


def _timestamp_or_string(loader: Any, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_string)

#: Front-matter keys secplan understands (declared in :mod:`secplan.markdown.fields`); every
#: other key is kept untouched (SP105 is info).
KNOWN_KEYS: frozenset[str] = _FIELD_KEYS
REQUIREMENTS_MODES = ("none", "checklist", "issues")

#: Bounds that keep hostile YAML cheap: nodes visited with aliases expanded, and depth.
MAX_NODES = 20_000
MAX_DEPTH = 64


@dataclass
class FrontMatter:
    """The result of reading a front-matter block."""

    data: dict[str, Any] = field(default_factory=dict)
    node: yaml.MappingNode | None = None
    first_line: int = 2  # file line of the first YAML line
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def key_line(self, key: str) -> int:
        """File line of a top-level key (the opening fence's line when unknown)."""
        return _key_line(self.node, key, self.first_line)


def split_front_matter(text: str) -> tuple[str | None, str, int, Diagnostic | None]:
    """Split ``text`` into (yaml text or None, body, file line where the body starts, problem).

    Front matter is a first line ``---`` and a closing ``---`` or ``...`` line. Without a
    closing fence the whole text is body and the problem is an SP106 diagnostic.
    """
    if text.startswith("+++\n"):
        return _skip_toml(text)
    if not (text.startswith("---\n") or text == "---" or text.startswith("--- \n")):
        return None, text, 1, None
    pos = text.find("\n") + 1
    line_no = 2
    while pos < len(text):
        end = text.find("\n", pos)
        stop = len(text) if end == -1 else end
        if text[pos:stop].rstrip() in ("---", "..."):
            body_start = len(text) if end == -1 else end + 1
            return text[text.find("\n") + 1 : pos], text[body_start:], line_no + 1, None
        if end == -1:
            break
        pos = end + 1
        line_no += 1
    problem = Diagnostic(
        "SP106", "front matter starts with '---' but has no closing '---' line", line=1
    )
    return None, text, 1, problem


def _skip_toml(text: str) -> tuple[None, str, int, Diagnostic]:
    """Hugo's TOML front matter is not read, but its lines must not count as body text."""
    problem = Diagnostic(
        "SP106", "TOML front matter (+++) is not supported; write YAML between '---' lines", 1
    )
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "+++":
            return None, "\n".join(lines[index + 1 :]), index + 2, problem
    return None, text, 1, problem


def read_front_matter(yaml_text: str, first_line: int = 2) -> FrontMatter:
    """Parse the YAML block; any problem becomes an SP106 diagnostic, never an exception."""
    fm = FrontMatter(first_line=first_line)
    if not yaml_text.strip():
        return fm
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return fm
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + first_line
            fm.diagnostics.append(
                Diagnostic("SP106", "front matter is not a mapping of keys to values", line=line)
            )
            return fm
        problem = _check_bounds(node)
        if problem:
            fm.diagnostics.append(Diagnostic("SP106", problem, line=first_line))
            return fm
        data = construct(loader, node)
    except yaml.MarkedYAMLError as exc:
        line, column, what = yaml_error_text(exc, first_line)
        fm.diagnostics.append(
            Diagnostic("SP106", f"invalid YAML in front matter: {what}", line, column)
        )
        return fm
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        # Bad timestamps and unhashable keys surface as ValueError / TypeError.
        msg = f"invalid YAML in front matter: {str(exc).splitlines()[0] if str(exc) else exc}"
        fm.diagnostics.append(Diagnostic("SP106", msg, line=first_line))
        return fm
    finally:
        loader.dispose()
    if not isinstance(data, dict):  # pragma: no cover - a MappingNode always builds a dict
        return fm
    fm.node = node
    fm.data = {str(k): v for k, v in data.items()}
    fm.diagnostics.extend(_duplicate_keys(node, first_line))
    return fm


def yaml_error_text(exc: yaml.MarkedYAMLError, first_line: int) -> tuple[int, int, str]:
    """(file line, column, message) of a YAML error, told the way PyYAML tells it.

    The error is placed where the broken construct starts (PyYAML's *context*, e.g. the
    opening quote of ``title: "Broken``), not where the parser gave up (often the end of the
    block), and the message keeps both: ``while scanning a quoted scalar (line 2, column 8):
    found unexpected end of stream (line 4, column 1)``. Lines are file lines.
    """

    def where(mark: Any) -> str:
        return f"line {mark.line + first_line}, column {mark.column + 1}"

    context, problem = exc.context_mark, exc.problem_mark
    anchor = context or problem
    parts = []
    if exc.context:
        parts.append(f"{exc.context} ({where(context)})" if context else exc.context)
    if exc.problem:
        parts.append(f"{exc.problem} ({where(problem)})" if problem else exc.problem)
    text = ": ".join(parts) or "invalid YAML"
    if anchor is None:
        return first_line, 1, text
    return anchor.line + first_line, anchor.column + 1, text


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """A node the plain walk leaves to PyYAML's own constructor."""


def construct(loader: Any, node: yaml.Node) -> Any:
    """The Python value of a composed document, as ``loader.construct_document`` builds it.

    Front matter is mostly strings, lists and mappings; building those directly skips
    PyYAML's per-node generator machinery. Anything else (merge keys, unhashable keys,
    tags other than the plain ones) goes to PyYAML, which also raises its usual errors.
    """
    try:
        return _plain(loader, node, {})
    except Exception:  # PyYAML decides, and raises its own error if any
        pass
    return loader.construct_document(node)


def _plain(loader: Any, node: yaml.Node, memo: dict[yaml.Node, Any]) -> Any:
    tag = node.tag
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if tag == _STR_TAG else loader.construct_object(node)
    if node in memo:  # an alias: the same object, as PyYAML gives
        return memo[node]
    if kind is yaml.MappingNode and tag == _MAP_TAG:
        mapping: dict[Any, Any] = {}
        memo[node] = mapping
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or type(key_node) is not yaml.ScalarNode:
                raise _Unusual
            key = _plain(loader, key_node, memo)
            hash(key)
            mapping[key] = _plain(loader, value_node, memo)
        return mapping
    if kind is yaml.SequenceNode and tag == _SEQ_TAG:
        sequence: list[Any] = []
        memo[node] = sequence
        sequence.extend(_plain(loader, child, memo) for child in node.value)
        return sequence
    raise _Unusual


def _duplicate_keys(node: yaml.MappingNode, first_line: int) -> list[Diagnostic]:
    """YAML keeps the last of two equal keys silently; the first value would be lost unseen."""
    seen: dict[str, int] = {}
    problems = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = int(key.start_mark.line) + first_line
        if key.value in seen:
            problems.append(
                Diagnostic(
                    "SP106",
                    f"front matter key '{key.value}' is repeated (first on line "
                    f"{seen[key.value]}); only this last value is used",
                    line=line,
                )
            )
        else:
            seen[key.value] = line
    return problems


def _check_bounds(root: yaml.Node) -> str | None:
    """A message when the tree, aliases expanded, is too big or too deep; None when fine."""
    visited = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            return f"front matter expands to more than {MAX_NODES} values (alias bomb?)"
        if depth > MAX_DEPTH:
            return f"front matter is nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
    return None


def _key_node(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in reversed(node.value):  # the last of repeated keys is the one YAML keeps
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _key_line(node: yaml.Node | None, key: str, first_line: int) -> int:
    found = _key_node(node, key)
    if found is None:
        return max(1, first_line - 1)
    return int(found[0].start_mark.line) + first_line


def _item_nodes(node: yaml.Node | None, key: str) -> list[yaml.Node]:
    found = _key_node(node, key)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return []
    return list(found[1].value)


def _str_list(value: Any) -> list[str] | None:
    """A list of strings from a list or a comma-separated string; None when neither."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(x, str | int | float) for x in value):
        return [str(x).strip() for x in value if str(x).strip()]
    return None


def _to_date(value: Any) -> date | str | None:
    """A date, None for no value, or the error message for a bad one."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    return f"'{value}' is not a date (YYYY-MM-DD)"


def apply_front_matter(plan: Plan, fm: FrontMatter, default_group: str | None = None) -> None:
    """Fill ``plan``'s fields from the front matter, adding diagnostics for values it rejects.

    Emitted here: SP103 (epic/source that are not references), SP104 (bad dates, start after
    due) and SP106 (a known key holding the wrong kind of value). Status, title and unknown
    keys are left for lint to judge from ``plan.status`` / ``plan.front_matter``.
    """
    data = fm.data
    plan.front_matter = data
    plan.front_matter_lines = {key: fm.key_line(key) for key in data}
    diags = plan.diagnostics

    def bad(key: str, expected: str) -> None:
        diags.append(
            Diagnostic(
                "SP106",
                f"front matter '{key}' must be {expected}, got {data[key]!r}",
                fm.key_line(key),
            )
        )

    title = data.get("title")
    if title is not None:
        plan.title = str(title).strip() or None
    status = data.get("status")
    if status is not None:
        plan.status = str(status).strip()
        if plan.status.lower() in STATUSES:
            plan.status = plan.status.lower()
    for key in ("epic", "source"):
        value = data.get(key)
        if value in (None, ""):
            continue
        text = str(value)
        ref = parse_epic_ref(text, default_group) if key == "epic" else parse_issue_ref(text)
        if ref is None:
            expected = "group/sub&IID or an epic URL" if key == "epic" else "group/project#IID"
            why = (
                f"its number is larger than {MAX_IID}"
                if iid_too_large(text)
                else f"expected {expected}"
            )
            diags.append(
                Diagnostic(
                    "SP103",
                    f"front matter '{key}' is not a valid reference: {text!r} ({why})",
                    fm.key_line(key),
                )
            )
        elif key == "epic":
            plan.epic = str(ref)
        else:
            plan.source = str(ref)
    for key in ("tracker", "superseded_by"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str | int):
            setattr(plan, key, str(value).strip() or None)
        else:
            bad(key, "a string")
    for key in ("owners", "labels"):
        if key in data:
            values = _str_list(data[key])
            if values is None:
                bad(key, "a list of strings")
            else:
                setattr(plan, key, [v.lstrip("@") if key == "owners" else v for v in values])
    if "confidential" in data:
        value = data["confidential"]
        if isinstance(value, bool):
            plan.confidential = value
        else:
            bad("confidential", "true or false")
    if "requirements" in data:
        value = data["requirements"]
        mode = "none" if value in (None, False) else str(value).strip().lower()
        if mode in REQUIREMENTS_MODES:
            plan.requirements_mode = mode  # type: ignore[assignment]
        else:
            bad("requirements", "one of none, checklist, issues")
    if "milestones" in data:
        _read_milestones(plan, fm, bad)
    for key in ("resources", "ssot"):
        if key in data:
            links = _read_links(data[key])
            if links is None:
                bad(key, "a list of {title, url}")
            else:
                setattr(plan, key, links)


def _read_milestones(plan: Plan, fm: FrontMatter, bad: Any) -> None:
    value = fm.data["milestones"]
    if value is None:
        return
    if not isinstance(value, list):
        bad("milestones", "a list of {title, due, start, description}")
        return
    nodes = _item_nodes(fm.node, "milestones")
    for index, entry in enumerate(value):
        node = nodes[index] if index < len(nodes) else None
        line = int(node.start_mark.line) + fm.first_line if node else fm.key_line("milestones")
        if isinstance(entry, str | int | float):
            plan.milestones.append(Milestone(title=str(entry), line=line))
            continue
        if not isinstance(entry, dict) or not entry.get("title"):
            plan.diagnostics.append(
                Diagnostic("SP106", "each milestone needs at least a 'title'", line=line)
            )
            continue
        milestone = Milestone(
            title=str(entry["title"]).strip(),
            description=str(entry.get("description") or ""),
            line=line,
        )
        for key in ("due", "start"):
            parsed = _to_date(entry.get(key))
            if isinstance(parsed, str):
                key_line = _key_line(node, key, fm.first_line) if node else line
                plan.diagnostics.append(
                    Diagnostic(
                        "SP104", f"milestone '{milestone.title}' {key}: {parsed}", line=key_line
                    )
                )
            else:
                setattr(milestone, key, parsed)
        if milestone.start and milestone.due and milestone.start > milestone.due:
            key_line = _key_line(node, "start", fm.first_line) if node else line
            plan.diagnostics.append(
                Diagnostic(
                    "SP104",
                    f"milestone '{milestone.title}' starts ({milestone.start}) after it is due "
                    f"({milestone.due})",
                    line=key_line,
                )
            )
        plan.milestones.append(milestone)


def _read_links(value: Any) -> list[Link] | None:
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    links: list[Link] = []
    for entry in value:
        if isinstance(entry, str):
            links.append(Link(title=entry, url=entry))
        elif isinstance(entry, dict) and entry.get("url"):
            url = str(entry["url"]).strip()
            links.append(Link(title=str(entry.get("title") or url).strip(), url=url))
        else:
            return None
    return links
