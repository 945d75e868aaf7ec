"""Plans as JSON: lossless for the cache, and the documented shape `show --format json` prints.

Front matter may hold any YAML value (dates, sets, binary, non-string keys), so the lossless
form tags the few values JSON cannot hold, e.g. ``{"$date": "2026-01-31"}``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from secplan.model import (
    Anchor,
    Diagnostic,
    Link,
    LinkUse,
    Marker,
    Milestone,
    Plan,
    Requirement,
    Section,
    WorkItem,
)

#: Plan fields that hold lists of dataclasses, and the class of their elements.
_LIST_FIELDS: dict[str, type] = {
    "milestones": Milestone,
    "resources": Link,
    "ssot": Link,
    "sections": Section,
    "anchors": Anchor,
    "items": WorkItem,
    "requirements": Requirement,
    "markers": Marker,
    "links": LinkUse,
    "diagnostics": Diagnostic,
}
#: Set from where the file lives, not from its content (one content may live at two paths).
_LOCATION_FIELDS = frozenset({"id", "path", "rel_path"})


def encode_value(value: Any) -> Any:
    """A YAML value as JSON, tagging what JSON cannot hold."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        import base64  # YAML's !!binary is rare: no import for every start

        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, set | frozenset):
        return {"$set": [encode_value(v) for v in value]}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode_value(v) for k, v in value.items()}
        return {"$map": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    return value


def _decode_tagged(value: dict[str, Any]) -> Any:
    """The inverse of :func:`encode_value`, as a ``json.loads`` object hook.

    json calls it innermost first, so the values it sees are already decoded.
    """
    if len(value) == 1:
        (tag, inner), *_ = value.items()
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$bytes":
            import base64

            return base64.b64decode(inner)
        if tag == "$set":
            return {_hashable(v) for v in inner}
        if tag == "$map":
            return {_hashable(k): v for k, v in inner}
    return value


def plain_value(value: Any) -> Any:
    """A YAML value as plain JSON: dates as ISO strings, sets as lists, keys as strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    return value


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: Field names of each element class, in declaration order: list elements are stored as
#: positional rows (no repeated keys), which is smaller and much faster to rebuild.
_ROW_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in set(_LIST_FIELDS.values())
}
_ROW_GETTERS = {cls: operator.attrgetter(*names) for cls, names in _ROW_FIELDS.items()}
_PLAN_FIELDS = tuple(f.name for f in dataclasses.fields(Plan) if f.name not in _LOCATION_FIELDS)
#: Changes whenever the stored shape changes (a model field added, a class changed), so cache
#: entries written by other code are never read into the wrong fields.
FORMAT_VERSION = hashlib.sha256(
    repr(("rows-3", _PLAN_FIELDS, sorted((c.__name__, n) for c, n in _ROW_FIELDS.items()))).encode()
).hexdigest()[:16]


def _row(getter: Any, obj: Any) -> list[Any]:
    values = getter(obj)
    return list(values) if isinstance(values, tuple) else [values]


def _milestone_row(milestone: Milestone) -> list[Any]:
    row = _row(_ROW_GETTERS[Milestone], milestone)
    return [v.isoformat() if isinstance(v, date) else v for v in row]


def plan_to_data(plan: Plan) -> dict[str, Any]:
    """Everything parsed from a plan's content, as JSON-able data (no location fields)."""
    out: dict[str, Any] = {}
    for name in _PLAN_FIELDS:
        value = getattr(plan, name)
        cls = _LIST_FIELDS.get(name)
        if cls is Milestone:
            out[name] = [_milestone_row(v) for v in value]
        elif cls is not None:
            getter = _ROW_GETTERS[cls]
            out[name] = [_row(getter, v) for v in value]
        elif name == "front_matter":
            # A JSON text of its own, so its tags are decoded by json's C parser with an
            # object hook that sees only front-matter mappings.
            out[name] = json.dumps(encode_value(value), separators=(",", ":"))
        elif name == "suppressions":
            out[name] = {str(line): sorted(codes) for line, codes in value.items()}
        else:
            out[name] = value
    return out


def _milestone(row: list[Any]) -> Milestone:
    milestone = Milestone(*row)
    for key in ("due", "start"):
        raw = getattr(milestone, key)
        if isinstance(raw, str):
            setattr(milestone, key, date.fromisoformat(raw))
    return milestone


_KNOWN_PLAN_FIELDS = frozenset(_PLAN_FIELDS)


def plan_from_data(data: dict[str, Any], *, plan_id: str, path: Path, rel_path: str) -> Plan:
    """Rebuild a plan from :func:`plan_to_data`; raises (TypeError, ValueError...) on bad data."""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KNOWN_PLAN_FIELDS:
            raise ValueError(f"unexpected field {key!r}")
        cls = _LIST_FIELDS.get(key)
        if cls is Milestone:
            fields[key] = [_milestone(row) for row in value]
        elif cls is not None:
            fields[key] = [cls(*row) for row in value]
        elif key == "front_matter":
            fields[key] = json.loads(value, object_hook=_decode_tagged)
            if type(fields[key]) is not dict:
                raise TypeError("front matter must be a mapping")
        elif key == "suppressions":
            fields[key] = {int(line): set(codes) for line, codes in value.items()}
        else:
            fields[key] = value
    return Plan(id=plan_id, path=path, rel_path=rel_path, **fields)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The documented JSON shape of a plan (``secplan show PLAN --format json``)."""

    def links(values: list[Link]) -> list[dict[str, str]]:
        return [{"title": v.title, "url": v.url} for v in values]

    return {
        "id": plan.id,
        "path": plan.rel_path,
        "title": plan.title,
        "status": plan.status,
        "epic": plan.epic,
        "source": plan.source,
        "tracker": plan.tracker,
        "owners": plan.owners,
        "labels": plan.labels,
        "confidential": plan.confidential,
        "requirements_mode": plan.requirements_mode,
        "superseded_by": plan.superseded_by,
        "front_matter": plain_value(plan.front_matter),
        "milestones": [
            {
                "title": m.title,
                "due": m.due.isoformat() if m.due else None,
                "start": m.start.isoformat() if m.start else None,
                "description": m.description,
                "line": m.line,
            }
            for m in plan.milestones
        ],
        "resources": links(plan.resources),
        "ssot": links(plan.ssot),
        "sections": [
            {
                "title": s.title,
                "level": s.level,
                "anchor": s.anchor,
                "line": s.line,
                "end_line": s.end_line,
                "explicit": s.explicit,
                "no_toc": s.no_toc,
            }
            for s in plan.sections
        ],
        "anchors": sorted(plan.anchor_ids()),
        "items": [
            {
                "id": i.id,
                "title": i.title,
                "milestone": i.milestone,
                "labels": i.labels,
                "assignees": i.assignees,
                "section": i.section,
                "spike": i.spike,
                "timebox": i.timebox,
                "ref": i.ref,
                "done": i.done,
                "generated": i.generated,
                "acceptance": i.acceptance,
                "description": i.description,
                "line": i.line,
            }
            for i in plan.items
        ],
        "requirements": [
            {
                "id": r.id,
                "level": r.level,
                "keyword": r.keyword,
                "text": r.text,
                "section": r.section,
                "line": r.line,
            }
            for r in plan.requirements
        ],
        "markers": [{"text": m.text, "line": m.line, "column": m.column} for m in plan.markers],
        "diagnostics": [
            {"code": d.code, "message": d.message, "line": d.line, "column": d.column}
            for d in plan.diagnostics
        ],
    }
