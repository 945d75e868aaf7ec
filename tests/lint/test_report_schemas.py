"""``check --format gitlab`` and ``--format sarif`` validated against the formats' schemas.

The snapshots in test_formats.py pin the bytes; these tests pin the contract: what GitLab's Code
Quality widget and SARIF consumers accept (schemas in tests/fixtures/schemas/, see its README;
the publishers' own files are used too when SECPLAN_SCHEMAS names a folder holding them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, run_cli

SCHEMAS = FIXTURES / "schemas"
HANDBOOK = FIXTURES / "lint" / "handbook"


def _schema(name: str) -> dict[str, Any]:
    return dict(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator(schema).iter_errors(data)]


def published(name: str) -> dict[str, Any]:
    """A publisher's schema file from SECPLAN_SCHEMAS (the test skips without it)."""
    folder = os.environ.get("SECPLAN_SCHEMAS")
    path = Path(folder) / name if folder else None
    if path is None or not path.is_file():
        pytest.skip(f"{name} not available (set SECPLAN_SCHEMAS to a folder holding it)")
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both reports of the lint fixture handbook, checked from its parent folder (paths then
    carry the folder, as in a repository whose handbook is not at the root)."""
    parent = tmp_path_factory.mktemp("repo")
    shutil.copytree(HANDBOOK, parent / "handbook")
    out = {}
    for fmt in ("gitlab", "sarif"):
        done = run_cli("check", "--root", "handbook", "--format", fmt, "--exit-zero", cwd=parent)
        assert done.returncode == 0, done.stderr
        out[fmt] = json.loads(done.stdout)
    return out


def test_the_schemas_are_valid_schemas() -> None:
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = _schema(path.name)
        jsonschema.validators.validator_for(schema).check_schema(schema)


def test_code_quality_report_matches_gitlab_format(reports: dict[str, Any]) -> None:
    report = reports["gitlab"]
    assert len(report) >= 10  # the fixture has errors, warnings and infos
    assert _errors(_schema("gitlab-codequality.schema.json"), report) == []
    fingerprints = [issue["fingerprint"] for issue in report]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab shows one finding per print
    assert {issue["severity"] for issue in report} >= {"major", "minor", "info"}
    assert all(issue["location"]["path"].startswith("handbook/") for issue in report)


def test_the_code_quality_schema_can_fail(reports: dict[str, Any]) -> None:
    schema = _schema("gitlab-codequality.schema.json")
    good = reports["gitlab"][0]
    for broken in (
        {**good, "severity": "error"},  # not one of GitLab's five
        {k: v for k, v in good.items() if k != "fingerprint"},
        {**good, "location": {"path": "/abs/plan.md", "lines": {"begin": 1}}},
        {**good, "location": {"path": "plan.md"}},  # no line
        {**good, "location": {"path": "plan.md", "lines": {"begin": 0}}},
    ):
        assert _errors(schema, [broken]), broken


def test_sarif_matches_the_sarif_2_1_0_objects(reports: dict[str, Any]) -> None:
    log = reports["sarif"]
    assert _errors(_schema("sarif-2.1.0-subset.schema.json"), log) == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:  # ruleIndex points at the rule of the same id
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert len(run["results"]) == len(reports["gitlab"])


def test_the_sarif_schema_can_fail(reports: dict[str, Any]) -> None:
    schema = _schema("sarif-2.1.0-subset.schema.json")
    log = reports["sarif"]
    result = log["runs"][0]["results"][0]
    for broken_result in (
        {**result, "level": "fatal"},
        {k: v for k, v in result.items() if k != "message"},
        {**result, "locations": [{"physicalLocation": {"region": {"startLine": 0}}}]},
        {**result, "severity": "high"},  # not a SARIF property
    ):
        broken = {**log, "runs": [{**log["runs"][0], "results": [broken_result]}]}
        assert _errors(schema, broken), broken_result
    assert _errors(schema, {**log, "version": "2.0.0"})


def test_sarif_against_the_oasis_schema(reports: dict[str, Any]) -> None:
    schema = published("sarif-schema-2.1.0.json")
    assert _errors(schema, reports["sarif"]) == []
    broken = json.loads(json.dumps(reports["sarif"]))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert _errors(schema, broken)
