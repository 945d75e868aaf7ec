"""The front-matter field table: one declaration for the parser, the JSON Schema and the docs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secplan.markdown import KNOWN_KEYS, parse_plan
from secplan.markdown.fields import DOCS_END, DOCS_START, FIELDS, docs_table, front_matter_schema
from secplan.markdown.frontmatter import read_front_matter, split_front_matter
from tests.conftest import EXAMPLE_HANDBOOK, FIXTURES, PROJECT, run_cli
from tests.snapshot import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        front_matter_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _as_json(value: Any) -> Any:
    """What a YAML language server sees: YAML 1.2 reads ``2026-02-01`` as a string (the
    parser's loader keeps an impossible date such as ``2026-13-01`` a string too)."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _front_matter(path: Path) -> dict[str, Any]:
    yaml_text, _body, _line, _diag = split_front_matter(path.read_text(encoding="utf-8"))
    assert yaml_text is not None, path
    return dict(_as_json(read_front_matter(yaml_text).data))


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(front_matter_schema())


def test_the_parser_knows_exactly_the_declared_keys() -> None:
    assert {f.name for f in FIELDS} == KNOWN_KEYS
    assert set(front_matter_schema()["properties"]) == KNOWN_KEYS


def test_the_docs_table_is_the_field_table() -> None:
    text = (PROJECT / "docs" / "plan-format.md").read_text(encoding="utf-8")
    assert text.count(DOCS_START) == 1 and text.count(DOCS_END) == 1
    inside = text.split(DOCS_START + "\n", 1)[1].split(DOCS_END, 1)[0]
    assert inside == docs_table(), "regenerate the table from secplan.markdown.fields"


def _plan_files() -> list[Path]:
    roots = [EXAMPLE_HANDBOOK, FIXTURES / "site-handbook"]
    files = [p for root in roots for p in sorted(root.rglob("*.md"))]
    return [p for p in files if p.read_text(encoding="utf-8").startswith("---\n")]


@pytest.mark.parametrize("path", _plan_files(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_example_plans_validate(path: Path) -> None:
    errors = [e.message for e in _validator().iter_errors(_front_matter(path))]
    assert errors == []


def test_the_example_plans_are_there() -> None:
    assert len(_plan_files()) >= 5


BAD = [
    ("confidential: maybe", "SP106"),
    ("milestones: soon", "SP106"),
    ("labels: {a: 1}", "SP106"),
    ("milestones:\n  - {due: 2026-02-01}", "SP106"),
    ("milestones:\n  - {title: A, due: 2026-13-01}", "SP104"),
    ("requirements: sometimes", "SP106"),
    ("resources: https://example.com", "SP106"),
    ("status: finished", "SP102"),
]


@pytest.mark.parametrize(("line", "code"), BAD)
def test_what_the_schema_refuses_the_checker_reports(line: str, code: str) -> None:
    text = f"---\ntitle: T\n{line}\n---\n# T\n"
    data = _as_json(read_front_matter(text.split("---\n")[1]).data)
    assert list(_validator().iter_errors(data)), f"the schema accepts {line!r}"
    plan = parse_plan(text, plan_id="t")
    codes = {d.code for d in plan.diagnostics}
    if code == "SP102":  # status is judged by lint, not by the parser
        assert plan.status == "finished"
    else:
        assert code in codes, codes


GOOD = [
    "labels: ci, secrets",
    "owners: ['@alice', bob]",
    "milestones:\n  - Inventory\n  - {title: Live, start: 2026-01-01, due: 2026-02-01}",
    "resources:\n  - https://example.com\n  - {title: Runbook, url: https://example.com/r}",
    "requirements: checklist",
    "status: implementable",  # a KEP status word, read as ready
    "layout: handbook",  # other keys are kept
]


@pytest.mark.parametrize("line", GOOD)
def test_what_the_parser_accepts_the_schema_accepts(line: str) -> None:
    text = f"---\ntitle: T\n{line}\n---\n# T\n"
    data = _as_json(read_front_matter(text.split("---\n")[1]).data)
    assert [e.message for e in _validator().iter_errors(data)] == []
    diagnostics = parse_plan(text, plan_id="t").diagnostics
    assert not [d for d in diagnostics if d.code in ("SP104", "SP106")]


def test_secplan_schema_prints_it() -> None:
    done = run_cli("schema")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == front_matter_schema()
    assert_snapshot(SNAPSHOTS, "front-matter.schema.json", done.stdout)
