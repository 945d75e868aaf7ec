"""``--format json``: one JSON list of finding objects (code, name, severity, message, ...).

The text is exactly ``json.dumps(data, indent=2, ensure_ascii=False)``, but written without
the pure-Python encoder that ``indent`` selects: the findings are flat objects of strings,
integers, booleans and null, so each value goes through the C string encoder and the layout
is joined here (several times faster on tens of thousands of findings).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C implementation when available
from typing import Any, TextIO

from secplan.lint.engine import CheckResult


def _value(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)  # anything else, as json would


def encode(data: list[dict[str, Any]]) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)`` for a list of flat objects."""
    if not data:
        return "[]"
    keys: dict[str, str] = {}
    objects = []
    for obj in data:
        if not obj:
            objects.append("  {}")
            continue
        fields = []
        for key, value in obj.items():
            shown = keys.get(key)
            if shown is None:
                shown = keys[key] = f"    {encode_basestring(key)}: "
            fields.append(shown + _value(value))
        objects.append("  {\n" + ",\n".join(fields) + "\n  }")
    return "[\n" + ",\n".join(objects) + "\n]"


def write(result: CheckResult, stream: TextIO) -> None:
    """Write the remaining findings as a JSON list."""
    stream.write(encode([f.to_dict() for f in result.remaining()]))
    stream.write("\n")
