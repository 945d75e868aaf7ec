"""Fuzz target: every lint rule on parsed hostile plans. Findings, never an internal error
(SP900), positions inside the file, and time in proportion to the input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from secplan.markdown.parser import parse_plan
from tests.fuzz.budget import FUZZ, within_bound
from tests.fuzz.strategies import documents
from tests.lint.helpers import ROOT, check


@FUZZ
@given(documents(), st.booleans())
def test_lint(text: str, require_ready: bool) -> None:
    plan = parse_plan(text, plan_id="p", path=ROOT / "p.md", rel_path="p.md")
    findings = within_bound(len(text), lambda: check(plan, require_ready=require_ready))
    last = text.count("\n") + text.count("\r") + 1
    for finding in findings:
        assert finding.code != "SP900", finding.message
        assert 1 <= finding.line <= last and finding.column >= 1
        assert finding.severity in {"error", "warning", "info"}
