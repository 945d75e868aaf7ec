"""``secplan new``: the template passes check at draft level, the catalog learns the plan."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from secplan.errors import SecplanError, UsageError
from secplan.handbook import load_handbook
from secplan.handbook.catalog import END_MARKER, START_MARKER, catalog_status
from secplan.handbook.scaffold import create_plan, render_plan, slugify
from tests.conftest import EXAMPLE_HANDBOOK, run_cli


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def _front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Secrets rotation for CI runners", "secrets-rotation-for-ci-runners"),
        ("  Zero-trust   access: phase 2 ", "zero-trust-access-phase-2"),
        ("Überprüfung der Schlüssel", "uberprufung-der-schlussel"),
        ("SBOM / SLSA (level 3)", "sbom-slsa-level-3"),
        ("???", ""),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_template_shows_the_format_and_parses(tmp_path: Path) -> None:
    text = render_plan('Key "escrow": phase 1', epic="sec&4", today=date(2027, 3, 3))
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == 'Key "escrow": phase 1'
    assert front["epic"] == "sec&4" and "source" not in front
    assert [m["start"] for m in front["milestones"]] == [date(2027, 3, 8), date(2027, 3, 22)]
    (tmp_path / "p.md").write_text(text, encoding="utf-8")
    plan = load_handbook(tmp_path).plans[0]
    assert [s.title for s in plan.sections if s.level == 2] == [
        "Summary",
        "Goals",
        "Non-goals",
        "Design",
        "Requirements",
        "Work breakdown",
        "Risks",
        "Single source of truth",
    ]
    spike = next(i for i in plan.items if i.spike)
    assert spike.id == "first-spike" and spike.timebox and spike.has_question
    assert all(i.milestone for i in plan.items)
    # Only the placeholders say they are placeholders (silent while the plan is a draft).
    assert {d.code for d in plan.diagnostics} == {"SP309"}


def test_new_plan_passes_check_at_draft_level_without_errors(handbook: Path) -> None:
    result = run_cli("new", "Hardware key rollout for contractors", "--root", str(handbook))
    assert result.returncode == 0, result.stderr
    path = handbook / "hardware-key-rollout-for-contractors.md"
    assert path.is_file()
    check = run_cli("check", str(path), "--root", str(handbook), "--format", "json")
    findings = json.loads(check.stdout)
    assert check.returncode == 0, check.stdout + check.stderr
    assert not [f for f in findings if f["severity"] == "error"]
    # The TODO markers are there on purpose: they tell the author what is left to write.
    assert {f["code"] for f in findings} <= {"SP306", "SP105"}


def test_new_adds_the_plan_to_the_catalog(handbook: Path) -> None:
    result = run_cli(
        "new",
        "Hardware key rollout",
        "--root",
        str(handbook),
        "--epic",
        "https://gitlab.example.com/groups/security/-/epics/9",
        "--source",
        "security/planning#7",
        "--status",
        "review",
    )
    assert result.returncode == 0, result.stderr
    assert "Added the plan to the catalog" in result.stdout
    index = (handbook / "index.md").read_text(encoding="utf-8")
    catalog = index.split(START_MARKER)[1].split(END_MARKER)[0]
    assert "| [Hardware key rollout](./hardware-key-rollout) | review | security&9 |  |" in catalog
    assert not catalog_status(load_handbook(handbook)).stale
    front = _front(handbook / "hardware-key-rollout.md")
    assert (front["epic"], front["source"], front["status"]) == (
        "security&9",
        "security/planning#7",
        "review",
    )


def test_new_refuses_to_overwrite(handbook: Path) -> None:
    target = handbook / "ci-runner-secrets-rotation.md"
    before = target.read_bytes()
    result = run_cli("new", "CI runner secrets rotation", "--root", str(handbook))
    assert result.returncode == 1
    assert "already exists" in result.stderr and "ci-runner-secrets-rotation.md" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == before


def test_new_refuses_an_id_taken_by_another_layout(handbook: Path) -> None:
    with pytest.raises(SecplanError, match="'admin-mfa' already exists"):
        create_plan(handbook, "Admin MFA")
    assert not (handbook / "admin-mfa.md").exists()


def test_new_with_bad_arguments_is_a_usage_error(handbook: Path) -> None:
    bad_epic = run_cli("new", "X plan", "--root", str(handbook), "--epic", "not an epic")
    assert bad_epic.returncode == 2 and "not an epic reference" in bad_epic.stderr
    bad_status = run_cli("new", "X plan", "--root", str(handbook), "--status", "done")
    assert bad_status.returncode == 2 and "unknown status" in bad_status.stderr
    assert not (handbook / "x-plan.md").exists()
    with pytest.raises(UsageError):
        create_plan(handbook, "!!!")
    with pytest.raises(UsageError, match="catalog page"):
        create_plan(handbook, "Index")


def test_new_in_a_handbook_without_markers_still_writes_the_plan(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# Plans\n\nHand-written list.\n")
    result = run_cli("new", "Plan one", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plan-one.md").is_file()
    assert "secplan adopt" in result.stderr
    assert (tmp_path / "index.md").read_text() == "# Plans\n\nHand-written list.\n"


def test_new_from_issue_promotes_it_and_fills_source_and_epic(
    handbook: Path, database_url: str
) -> None:
    created = run_cli(
        "issue",
        "create",
        "security/planning",
        "Rotate the signing keys of the release pipeline",
        "--root",
        str(handbook),
        "--database-url",
        database_url,
    )
    assert created.returncode == 0, created.stderr
    issue_ref = created.stdout.strip().splitlines()[-1]

    result = run_cli(
        "new", "--from-issue", issue_ref, "--root", str(handbook), "--database-url", database_url
    )
    assert result.returncode == 0, result.stderr
    path = handbook / "rotate-the-signing-keys-of-the-release-pipeline.md"
    front = _front(path)
    assert front["source"] == issue_ref
    assert front["epic"].startswith("security&")

    from secplan.tracker import open_tracker

    with open_tracker(handbook, database_url) as tracker:
        epic = tracker.get_epic(front["epic"])
        issue = tracker.get_issue(issue_ref)
    assert epic is not None and epic.title == "Rotate the signing keys of the release pipeline"
    assert issue is not None and issue.state == "closed"

    again = run_cli(
        "new", "--from-issue", issue_ref, "--root", str(handbook), "--database-url", database_url
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_new_from_unknown_issue_creates_nothing(handbook: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    before = sorted(p.name for p in handbook.iterdir())
    result = run_cli(
        "new",
        "--from-issue",
        "security/planning#404",
        "--root",
        str(handbook),
        "--database-url",
        url,
    )
    assert result.returncode == 1
    assert "security/planning#404" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in handbook.iterdir()) == before
