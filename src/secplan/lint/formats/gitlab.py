"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

Fingerprints hash the code, path, plan and message (not the line), so moving text around does
not make GitLab see a finding as fixed and a new one introduced; repeats of the same finding in
one file are told apart by their order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, TextIO

from secplan.lint.engine import CheckResult
from secplan.lint.registry import Finding

SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """A stable hash identifying a finding across runs and branches."""
    key = "\0".join(
        [finding.code, finding.path, finding.plan or "", finding.message, str(occurrence)]
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def report(result: CheckResult) -> list[dict[str, Any]]:
    """The Code Quality report as Python data."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in result.remaining():
        key = (f.code, f.path, f.message)
        occurrence = seen[key]
        seen[key] += 1
        out.append(
            {
                "type": "issue",
                "check_name": f.code,
                "description": f"{f.code} {f.message}",
                "categories": ["Style"],
                "fingerprint": fingerprint(f, occurrence),
                "severity": SEVERITY.get(f.severity, "minor"),
                "location": {"path": f.path, "lines": {"begin": f.line}},
            }
        )
    return out


def write(result: CheckResult, stream: TextIO) -> None:
    """Write the Code Quality report."""
    stream.write(json.dumps(report(result), indent=2, ensure_ascii=False))
    stream.write("\n")
