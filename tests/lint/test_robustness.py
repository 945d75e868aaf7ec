"""No text makes a rule fail: any parsed plan yields findings, never an internal error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secplan.markdown.parser import parse_plan
from tests.lint.helpers import ROOT, check

FRAGMENTS = [
    "---\n",
    "title: T\n",
    "status: ready\n",
    "status: [x\n",
    "epic: g&1\n",
    "epic: 12\n",
    "superseded_by: {a: 1}\n",
    "milestones:\n  - title: M\n    due: 2027-13-45\n    start: 2027-01-01\n",
    "milestones: [1, {title: null}]\n",
    "# Heading {#x}\n",
    "## Heading\n",
    "- [ ] Item %M ~label @user #12\n",
    '- [x] Done %"Two words"\n',
    "  Acceptance: yes\n",
    "- [ ] Spike: why? (timebox: 2d)\n",
    "- Requirement MUST hold\n",
    "[a](#x) [b](./other#y) [c](../../z.md) [d](%zz) [e](http://[::1)\n",
    "TODO TBD FIXME XXX\n",
    "<!-- secplan: ignore SP3 -->\n",
    "```\nTODO in code\n```\n",
    '<a name="x"></a>\n',
    "\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25), st.sampled_from(["draft", "ready"]))
def test_rules_never_fail_on_parsed_plans(parts: list[str], status: str) -> None:
    plan = parse_plan("".join(parts), plan_id="p", path=ROOT / "p.md", rel_path="p.md")
    for finding in check(plan, require_ready=status == "ready"):
        assert finding.code != "SP900", finding.message
        assert finding.line >= 1 and finding.column >= 1
        assert finding.severity in {"error", "warning", "info"}
