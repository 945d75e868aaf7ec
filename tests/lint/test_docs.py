"""docs/rules.md documents every registered rule, with the registry's name and severity."""

from __future__ import annotations

import re

from secplan.lint.registry import all_rules
from tests.conftest import PROJECT

DOC = (PROJECT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_rule_has_a_section_and_a_table_row() -> None:
    for info in all_rules():
        assert f"### {info.code} {info.name}\n" in DOC, info.code
        row = re.search(rf"^\| {info.code} \| {re.escape(info.name)} \| (\w+)", DOC, re.M)
        assert row is not None, info.code
        assert row.group(1) == info.default_severity, info.code


def test_the_doc_names_no_rule_that_does_not_exist() -> None:
    known = {info.code for info in all_rules()}
    assert set(re.findall(r"^### (SP\d{3}) ", DOC, re.M)) == known
