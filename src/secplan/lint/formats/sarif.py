"""``--format sarif``: SARIF 2.1.0 with every rule in ``tool.driver.rules``."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any, TextIO
from urllib.parse import quote

from secplan import __version__
from secplan.lint.engine import CheckResult
from secplan.lint.registry import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    if PurePosixPath(path).is_absolute():
        return "file://" + quote(path)
    return quote(path)


def report(result: CheckResult) -> dict[str, Any]:
    """The SARIF log as Python data."""
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for f in result.remaining():
        entry: dict[str, Any] = {
            "ruleId": f.code,
            "level": LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path)},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
        }
        if f.code in index:
            entry["ruleIndex"] = index[f.code]
        if f.plan:
            entry["properties"] = {"plan": f.plan}
        results.append(entry)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "secplan",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/secplan/",
                        "rules": [
                            {
                                "id": r.code,
                                "name": r.name,
                                "shortDescription": {"text": r.summary},
                                "defaultConfiguration": {"level": LEVEL[r.default_severity]},
                                "properties": {"fixable": r.fixable},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }


def write(result: CheckResult, stream: TextIO) -> None:
    """Write the SARIF log."""
    stream.write(json.dumps(report(result), indent=2, ensure_ascii=False))
    stream.write("\n")
