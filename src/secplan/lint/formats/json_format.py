"""``--format json``: one JSON list of finding objects (code, name, severity, message, ...)."""

from __future__ import annotations

import json
from typing import TextIO

from secplan.lint.engine import CheckResult


def write(result: CheckResult, stream: TextIO) -> None:
    """Write the remaining findings as a JSON list."""
    data = [f.to_dict() for f in result.remaining()]
    stream.write(json.dumps(data, indent=2, ensure_ascii=False))
    stream.write("\n")
