"""``--format json``: one JSON list of finding objects (code, name, severity, message, ...).

The text is exactly ``json.dumps(data, indent=2, ensure_ascii=False)``, but written without
the pure-Python encoder that ``indent`` selects: a finding is a flat object of known fields,
so each string goes through the C string encoder and the layout is one template (several
times faster on tens of thousands of findings).
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C implementation when available
from typing import TextIO

from secplan.lint.engine import CheckResult
from secplan.lint.registry import Finding


def encode_findings(findings: list[Finding]) -> str:
    """``json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False)``."""
    items = encode_items(findings)
    return f"[\n{items}\n]" if items else "[]"


def encode_items(findings: list[Finding]) -> str:
    """The findings as the list's items, one template per finding: codes, names, severities,
    paths and plan ids repeat, so each is encoded once. The items of consecutive runs of
    findings joined by ``",\n"`` are the items of all of them."""
    seen: dict[str | None, str] = {None: "null"}

    def once(text: str | None) -> str:
        shown = seen.get(text)
        if shown is None:  # None itself is seeded above
            shown = seen[text] = encode_basestring(str(text))
        return shown

    return ",\n".join(
        [
            f'  {{\n    "code": {once(f.code)},\n    "name": {once(f.name)},\n'
            f'    "severity": {once(f.severity)},\n'
            f'    "message": {encode_basestring(f.message)},\n'
            f'    "path": {once(f.path)},\n    "line": {f.line:d},\n'
            f'    "column": {f.column:d},\n    "plan": {once(f.plan)},\n'
            f'    "fixable": {"true" if f.fixable else "false"}\n  }}'
            for f in findings
        ]
    )


def write(result: CheckResult, stream: TextIO) -> None:
    """Write the remaining findings as a JSON list."""
    stream.write(encode_findings(result.remaining()))
    stream.write("\n")
