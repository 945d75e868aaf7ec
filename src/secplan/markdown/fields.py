"""The front-matter fields, declared once.

:data:`FIELDS` is the one table of the keys secplan reads from a plan's front matter: the
parser's known keys (``frontmatter.KNOWN_KEYS``), the JSON Schema ``secplan schema`` prints
(for editors with a YAML language server) and the field table of docs/plan-format.md (between
``<!-- secplan:fields -->`` markers; a test compares them) all come from it. The schemas accept
what the parser accepts — a comma-separated string for ``labels``, a bare URL for a link —
and no more, so an editor flags what ``secplan check`` would report as SP103/SP104/SP106.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secplan.model import STATUSES

SCHEMA_ID = "urn:secplan:schema:front-matter"
DOCS_START = "<!-- secplan:fields -->"
DOCS_END = "<!-- /secplan:fields -->"

_STRING: dict[str, Any] = {"type": "string"}
_STRINGS: dict[str, Any] = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "string", "description": "comma-separated"},
    ]
}
_DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_LINKS: dict[str, Any] = {
    "anyOf": [
        {"type": "null"},
        {
            "type": "array",
            "items": {
                "anyOf": [
                    {"type": "string", "description": "a bare URL"},
                    {
                        "type": "object",
                        "properties": {"title": _STRING, "url": {"type": "string", "minLength": 1}},
                        "required": ["url"],
                    },
                ]
            },
        },
    ]
}
_MILESTONES: dict[str, Any] = {
    "anyOf": [
        {"type": "null"},
        {
            "type": "array",
            "items": {
                "anyOf": [
                    {"type": ["string", "number"], "description": "a title alone"},
                    {
                        "type": "object",
                        "properties": {
                            "title": {"type": ["string", "number"], "minLength": 1},
                            "start": {"anyOf": [_DATE, {"type": "null"}]},
                            "due": {"anyOf": [_DATE, {"type": "null"}]},
                            "description": {"type": ["string", "null"]},
                        },
                        "required": ["title"],
                    },
                ]
            },
        },
    ]
}


@dataclass(frozen=True)
class Field:
    """One front-matter key: its JSON Schema, what it means, its default (as documented)."""

    name: str
    schema: dict[str, Any]
    summary: str
    values: str  # what may be written, for the docs table
    default: str = ""


def _status_schema() -> dict[str, Any]:
    from secplan.handbook.conventions import DEFAULT_STATUS_WORDS

    words = [w for w in DEFAULT_STATUS_WORDS if w not in STATUSES]
    return {"type": "string", "enum": [*STATUSES, *words]}


#: Every key secplan reads, in the order the documentation lists them.
FIELDS: tuple[Field, ...] = (
    Field("title", _STRING, "The plan's title (else its first `# ` heading).", "text"),
    Field(
        "status",
        {"$ref": "#/$defs/status"},
        "Where the plan is in its life; stricter checks from `ready` on.",
        " \\| ".join(f"`{s}`" for s in STATUSES),
        "`draft`",
    ),
    Field(
        "epic",
        _STRING,
        "The plan's single epic.",
        "`group/sub&16`, `&16` (the configured group) or an epic URL",
    ),
    Field(
        "source",
        _STRING,
        "The issue the plan started from.",
        "`group/project#4` or an issue URL",
    ),
    Field(
        "tracker",
        {"type": ["string", "integer"]},
        "Project for new issues (overrides `tracker` in secplan.toml).",
        "`group/project`",
    ),
    Field(
        "owners",
        _STRINGS,
        "People responsible for the plan.",
        "list of user names (`@` optional) or one comma-separated string",
        "`[]`",
    ),
    Field(
        "labels",
        _STRINGS,
        "Labels for the epic and every issue.",
        "list of labels or one comma-separated string",
        "`[]`",
    ),
    Field(
        "confidential",
        {"type": "boolean"},
        "Whether the epic and issues are confidential (security work is not public).",
        "`true` \\| `false`",
        "`true`",
    ),
    Field(
        "requirements",
        {"enum": ["none", "checklist", "issues", None, False]},
        "What RFC 2119 requirements become.",
        "`none` \\| `checklist` \\| `issues`",
        "`none`",
    ),
    Field(
        "milestones",
        _MILESTONES,
        "The plan's milestones (group milestones, shared by every plan).",
        "list of `{title, start, due, description}` (dates `YYYY-MM-DD`) or titles",
        "`[]`",
    ),
    Field(
        "resources",
        _LINKS,
        'The catalog\'s "Other Resources and Links".',
        "list of `{title, url}` or bare URLs",
        "`[]`",
    ),
    Field(
        "ssot",
        _LINKS,
        "Where the truth lives once work starts (runbooks, system docs).",
        "list of `{title, url}` or bare URLs",
        "`[]`",
    ),
    Field(
        "superseded_by",
        {"type": ["string", "integer"]},
        "The plan that replaces this one (with `status: superseded`).",
        "a plan id",
    ),
)

KNOWN_KEYS: frozenset[str] = frozenset(f.name for f in FIELDS)


def front_matter_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a plan's front matter.

    Other keys are allowed (they are kept untouched and reported as SP105 information only).
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "secplan plan front matter",
        "description": "YAML front matter of a secplan plan (docs/plan-format.md).",
        "type": "object",
        "properties": {
            f.name: {**f.schema, "description": f.summary}
            | ({"default": _json_default(f.default)} if f.default else {})
            for f in FIELDS
        },
        "additionalProperties": True,
        "$defs": {"status": _status_schema()},
    }


def _json_default(text: str) -> Any:
    value = text.strip("`")
    return {"[]": [], "true": True, "false": False}.get(value, value)


def docs_table() -> str:
    """The Markdown table of :data:`FIELDS` for docs/plan-format.md (no markers)."""
    rows = ["| Key | Values | Default | Meaning |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        rows.append(f"| `{f.name}` | {f.values} | {f.default} | {f.summary} |")
    return "\n".join(rows) + "\n"
