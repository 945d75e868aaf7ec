"""The CLI contract of ``secplan plan``, ``apply``, ``coverage`` and ``status`` (real processes)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_HANDBOOK, FIXTURES, run_cli


@pytest.fixture
def hb(tmp_path: Path) -> Path:
    dest = tmp_path / "handbook"
    shutil.copytree(FIXTURES / "sync" / "basic", dest)
    return dest


def secplan(hb: Path, *args: str, db: str | None = None):
    extra = ["--database-url", db] if db else []
    return run_cli(*args, "--root", str(hb), *extra)


def test_plan_json_contract_then_apply_then_nothing_left(hb: Path, database_url: str):
    planned = secplan(hb, "plan", "--format", "json", "--create-epic", db=database_url)
    assert planned.returncode == 0, planned.stderr
    changes = json.loads(planned.stdout)
    for c in changes:
        assert {"action", "kind", "plan", "item", "ref"} <= c.keys()
        assert c["action"] in {"create", "update", "unchanged", "drift", "orphan"}
        assert c["kind"] in {"epic", "milestone", "issue"}
    assert sorted((c["kind"], c["plan"]) for c in changes if c["kind"] == "epic") == [
        ("epic", "scanner-rollout"),
        ("epic", "token-hardening"),
    ]
    assert {c["action"] for c in changes} == {"create"}
    assert len(changes) == 2 + 3 + 6

    applied = secplan(hb, "apply", "--create-epic", db=database_url)
    assert applied.returncode == 0, applied.stderr
    refs = re.findall(r"^\+ created issue (\S+#\d+) ", applied.stdout, re.M)
    assert len(refs) == 6 and len(set(refs)) == 6
    assert re.findall(r"^\+ created epic (appsec&\d+)$", applied.stdout, re.M) == [
        "appsec&1",
        "appsec&2",
    ]
    assert applied.stdout.rstrip().endswith(
        "Apply: 11 created, 0 updated, 0 unchanged, 0 drift, 0 orphans."
    )

    listed = secplan(hb, "issue", "list", "appsec/planning", "--format", "json", db=database_url)
    assert listed.returncode == 0, listed.stderr
    assert {i["ref"] for i in json.loads(listed.stdout)} == {
        r for r in refs if r.startswith("appsec/planning#")
    }

    after = secplan(hb, "plan", "--format", "json", db=database_url)
    assert {c["action"] for c in json.loads(after.stdout)} == {"unchanged"}
    text = secplan(hb, "plan", db=database_url)
    assert "token-hardening (ready; the plan is the source of truth)" in text.stdout
    assert "up to date" in text.stdout
    assert text.stdout.rstrip().endswith(
        "Plan: 0 to create, 0 to update, 11 unchanged, 0 drift, 0 orphans."
    )


def test_plan_text_shows_terraform_style_lines(hb: Path):
    secplan(hb, "apply", "scanner-rollout")
    plan_file = hb / "scanner-rollout.md"
    plan_file.write_text(
        plan_file.read_text().replace(
            "false positives\n  for two weeks", "false positives\n  for three weeks"
        ),
        encoding="utf-8",
    )
    out = secplan(hb, "plan")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(
        ln.startswith("  ~ update issue appsec/scanners#1 enable-push-protection") for ln in lines
    )
    assert "      description: changed" in lines
    assert any(
        ln.startswith("  + create issue in appsec/planning inventory-long-lived") for ln in lines
    )
    assert any(
        ln.startswith("  = unchanged issue appsec/scanners#2 write-the-bypass-runbook")
        for ln in lines
    )
    # plan is a dry run: nothing changed
    issue = json.loads(secplan(hb, "issue", "show", "appsec/scanners#1", "--format", "json").stdout)
    assert "two weeks" in issue["description"]


def test_apply_write_back_then_second_apply_is_a_no_op(hb: Path):
    first = secplan(hb, "apply", "token-hardening", "--create-epic", "--write-back")
    assert first.returncode == 0, first.stderr
    assert "wrote 5 ref(s) into token-hardening.md" in first.stdout
    text = (hb / "token-hardening.md").read_text()
    assert "\nepic: appsec&1\n" in text
    assert "%Audit ~inventory @rin.sato appsec/planning#1\n" in text
    assert "appsec/planning#2 {#expiry-spike}" in text
    second = secplan(hb, "apply", "token-hardening", "--format", "json")
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["writes"] == 0 and data["created"] == [] and data["ok"] is True


def test_renamed_item_keeps_its_written_back_issue(hb: Path, database_url: str):
    first = secplan(hb, "apply", "token-hardening", "--write-back", db=database_url)
    assert first.returncode == 0, first.stderr
    plan = hb / "token-hardening.md"
    text = plan.read_text(encoding="utf-8")
    old = "Enforce a 90-day maximum token lifetime"
    assert f"- [ ] {old} %Enforce ~policy appsec/planning#3\n" in text
    plan.write_text(text.replace(old, "Cap token lifetime at 90 days"), "utf-8")

    shown = secplan(hb, "plan", "token-hardening", db=database_url)
    assert shown.returncode == 0, shown.stderr
    assert (
        '  ~ update issue appsec/planning#3 cap-token-lifetime-at-90-days "Cap token lifetime at'
        ' 90 days" (title, description) (renamed from enforce-a-90-day-maximum-token-lifetime)\n'
    ) in shown.stdout
    assert "Plan: 0 to create, 1 to update, 5 unchanged, 0 drift, 0 orphans." in shown.stdout

    applied = secplan(hb, "apply", "token-hardening", db=database_url)
    assert applied.returncode == 0, applied.stderr
    assert (
        "~ updated issue appsec/planning#3 cap-token-lifetime-at-90-days"
        " (renamed from enforce-a-90-day-maximum-token-lifetime)\n"
    ) in applied.stdout
    again = secplan(hb, "apply", "token-hardening", "--format", "json", db=database_url)
    assert json.loads(again.stdout)["writes"] == 0


def test_apply_closes_the_issue_of_a_ticked_item(hb: Path, database_url: str):
    assert secplan(hb, "apply", "scanner-rollout", db=database_url).returncode == 0
    plan = hb / "scanner-rollout.md"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("- [ ] Write the bypass", "- [x] Write the bypass"), "utf-8")
    result = secplan(hb, "apply", "scanner-rollout", db=database_url)
    assert result.returncode == 0, result.stderr
    assert "~ closed issue appsec/scanners#2 write-the-bypass-runbook\n" in result.stdout
    assert result.stdout.endswith(
        "warning: the plan names no epic: issues are not linked to one (--create-epic makes one)\n"
        "Apply: 0 created, 1 updated, 2 unchanged, 0 drift, 0 orphans.\n"
    ), result.stdout
    shown = secplan(hb, "issue", "show", "appsec/scanners#2", "--format", "json", db=database_url)
    issue = json.loads(shown.stdout)
    assert issue["state"] == "closed"
    assert [n["body"] for n in issue["notes"]] == ["closed: ticked in plan scanner-rollout"]


def test_coverage_and_status_json(hb: Path):
    secplan(hb, "apply", "token-hardening")
    cov = secplan(hb, "coverage", "--format", "json")
    assert cov.returncode == 0, cov.stderr
    by_plan = {p["plan"]: p for p in json.loads(cov.stdout)}
    assert by_plan["token-hardening"]["totals"] == {
        "items": 4,
        "open": 4,
        "closed": 0,
        "uncovered": 0,
        "candidates": 0,
    }
    scanner = by_plan["scanner-rollout"]
    assert scanner["totals"]["uncovered"] == 2
    assert [c["kind"] for c in scanner["candidates"]] == ["marker"]
    assert "allow-list" in scanner["candidates"][0]["text"]
    pilot = next(s for s in scanner["sections"] if s["anchor"] == "pilot")
    assert len(pilot["uncovered"]) == 2 and len(pilot["candidates"]) == 1

    closed = secplan(hb, "issue", "close", "appsec/planning#1")
    assert closed.returncode == 0, closed.stderr
    st = secplan(hb, "status", "--format", "json")
    assert st.returncode == 0, st.stderr
    tokens = next(p for p in json.loads(st.stdout) if p["plan"] == "token-hardening")
    assert tokens["status"] == "ready"
    assert tokens["progress"] == {"closed": 1, "total": 4, "percent": 25}
    assert {m["milestone"]: (m["closed"], m["total"]) for m in tokens["milestones"]} == {
        "Audit": (1, 2),
        "Enforce": (0, 2),
    }
    text = secplan(hb, "status")
    assert "token-hardening" in text.stdout and "1/4 (25%)" in text.stdout
    cov_text = secplan(hb, "coverage", "scanner-rollout")
    assert "UNCOVERED: write-the-bypass-runbook" in cov_text.stdout
    assert "* marker line" in cov_text.stdout


def test_unknown_plan_and_missing_project_are_clear_errors(hb: Path):
    missing = secplan(hb, "plan", "no-such-plan")
    assert missing.returncode == 1
    assert "Error: no plan 'no-such-plan'" in missing.stderr
    assert "Hint:" in missing.stderr and "Traceback" not in missing.stderr

    (hb / "secplan.toml").write_text('group = "appsec"\n', encoding="utf-8")
    res = secplan(hb, "apply", "token-hardening")
    assert res.returncode == 1
    assert "token-hardening.md: plan 'token-hardening' names no tracker project" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example handbook without its local tracker."""
    dest = tmp_path / "example"
    shutil.copytree(EXAMPLE_HANDBOOK, dest, ignore=shutil.ignore_patterns(".secplan"))
    return dest


def test_create_epic_never_hands_another_plans_epic_to_a_plan(example: Path, database_url: str):
    # ci-runner-secrets-rotation names security&1 before it exists; --create-epic makes
    # security&1 for vulnerability-sla-dashboard.
    first = secplan(example, "apply", "--create-epic", db=database_url)
    assert first.returncode == 0, first.stderr
    assert re.findall(r"^\+ created epic (\S+)$", first.stdout, re.M) == ["security&1"]

    planned = secplan(example, "plan", db=database_url)
    assert planned.returncode == 1, planned.stderr  # a conflict: plan fails as apply would
    assert "Plan: 0 to create, 0 to update," in planned.stdout
    assert (
        "warning: conflict: epic security&1 named in the front matter is the epic secplan made "
        "for plan vulnerability-sla-dashboard" in planned.stdout
    )
    again = secplan(example, "apply", "--create-epic", "--format", "json", db=database_url)
    assert again.returncode == 1
    data = json.loads(again.stdout)
    assert data["writes"] == 0 and data["ok"] is False
    [problem] = [p for p in data["problems"] if p.get("conflict")]
    assert problem["plan"] == "ci-runner-secrets-rotation"
    assert "1 conflict(s)" in again.stderr and "Traceback" not in again.stderr
    children = secplan(
        example,
        "issue",
        "list",
        "security/planning",
        "--epic",
        "security&1",
        "--format",
        "json",
        db=database_url,
    )
    assert children.returncode == 0, children.stderr
    markers = {i["description"].split("plan=")[1].split()[0] for i in json.loads(children.stdout)}
    assert markers == {"vulnerability-sla-dashboard"}
    cov = secplan(example, "coverage", "ci-runner-secrets-rotation", db=database_url)
    assert cov.returncode == 0, cov.stderr
    assert "note: epic security&1 named in the front matter is the epic secplan made for plan " in (
        cov.stdout
    )


def test_disagreeing_shared_milestone_settles_after_one_apply(example: Path, database_url: str):
    plan_file = example / "vulnerability-sla-dashboard.md"
    text = plan_file.read_text(encoding="utf-8")
    pilot = "milestones:\n  - title: Pilot\n    start: 2027-03-01\n    due: 2027-03-20\n"
    plan_file.write_text(text.replace("milestones:\n", pilot, 1), encoding="utf-8")

    first = secplan(example, "apply", db=database_url)
    assert first.returncode == 1
    assert 'declare milestone "Pilot" of group security differently' in first.stdout
    assert "ci-runner-secrets-rotation (ci-runner-secrets-rotation.md:" in first.stdout
    assert "vulnerability-sla-dashboard (vulnerability-sla-dashboard.md:7)" in first.stdout
    assert "start 2027-01-25 vs 2027-03-01" in first.stdout
    for args in (("apply",), ("apply", "vulnerability-sla-dashboard")):
        again = secplan(example, *args, "--format", "json", db=database_url)
        assert again.returncode == 1
        assert json.loads(again.stdout)["writes"] == 0
    planned = secplan(example, "plan", "--format", "json", db=database_url)
    assert planned.returncode == 1  # the conflict stands: plan fails as apply does
    pilots = [
        c for c in json.loads(planned.stdout) if c["kind"] == "milestone" and c["title"] == "Pilot"
    ]
    assert {c["plan"] for c in pilots} == {
        "ci-runner-secrets-rotation",
        "vulnerability-sla-dashboard",
    }
    assert all(c["action"] == "unchanged" and c["note"].startswith("conflict:") for c in pilots)
    shown = secplan(example, "milestone", "list", "security", "--format", "json", db=database_url)
    assert shown.returncode == 0, shown.stderr
    [pilot] = [m for m in json.loads(shown.stdout) if m["title"] == "Pilot"]
    # ci-runner-secrets-rotation comes first by id: the milestone keeps its dates.
    assert (pilot["start"], pilot["due"]) == ("2027-01-25", "2027-02-19")
