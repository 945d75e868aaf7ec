"""``secplan breakdown``: proposals from prose, and ``--write`` that only inserts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from secplan.breakdown import propose
from secplan.lint.runner import CheckOptions, Target, run_check
from secplan.markdown import parse_plan
from tests.conftest import run_cli

PROSE = """\
---
title: Runner secrets
status: review
---

# Runner secrets

## Summary

Runners keep long-lived tokens. TBD whether we rotate them nightly?

## Goals

- Every CI job gets a credential that expires within a day.

## Design

- The broker MUST refuse tokens older than a day.

- Add a rotation job to the scheduler.
- The broker is stateless.

## Iterations

### Phase 1: Pilot (2027-03-31)

- Issue short-lived tokens to one runner fleet.

### Phase 2: Everyone

## Next steps

- Agree the token lifetime with the platform team
- See [the old incident](https://gitlab.com/sec/runners/-/issues/12)
"""


def _plan(text: str):
    return parse_plan(text, plan_id="p", path=Path("p.md"), rel_path="p.md")


def only_inserted(old: bytes, new: bytes) -> bool:
    """``new`` is ``old`` with text inserted at no more than two places (nothing changed)."""
    a = 0
    while a < len(old) and a < len(new) and old[a] == new[a]:
        a += 1
    b = 0
    while b < len(old) - a and b < len(new) - a and old[-1 - b] == new[-1 - b]:
        b += 1
    middle = old[a : len(old) - b]
    return not middle or middle in new[a : len(new) - b]


def test_proposals_from_structure_with_anchor_line_confidence_reason() -> None:
    plan = _plan(PROSE)
    found = propose(plan, PROSE)
    milestones = {m.title: m for m in found.milestones}
    assert set(milestones) == {"Phase 1: Pilot (2027-03-31)", "Phase 2: Everyone"}
    assert str(milestones["Phase 1: Pilot (2027-03-31)"].due) == "2027-03-31"
    items = {i.title: i for i in found.items}
    assert items["Add a rotation job to the scheduler"].item_kind == "task"
    assert "imperative" in items["Add a rotation job to the scheduler"].reason
    assert "The broker is stateless" not in items  # prose bullet, not work
    pilot = items["Issue short-lived tokens to one runner fleet"]
    assert (pilot.section, pilot.milestone) == (
        "phase-1-pilot-2027-03-31",
        milestones["Phase 1: Pilot (2027-03-31)"].title,
    )
    agree = items["Agree the token lifetime with the platform team"]
    assert agree.section == "next-steps" and agree.confidence == 0.8
    assert "task-like section" in agree.reason
    question = next(i for i in found.items if i.item_kind == "question")
    assert question.title == "Spike: whether we rotate them nightly?"
    requirement = next(i for i in found.items if i.item_kind == "requirement")
    assert requirement.title.startswith("The broker MUST refuse")
    related = next(i for i in found.items if i.item_kind == "related")
    assert related.ref == "sec/runners#12"
    anchors = plan.anchor_ids()
    assert all(p.section in anchors for p in [*found.items, *found.milestones])
    assert all(0 < p.confidence <= 1 and p.line > 0 for p in found.items)


def test_write_inserts_only_and_a_second_write_proposes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_bytes(PROSE.encode())
    first = run_cli("breakdown", str(path), "--write", "-f", "json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["written"] and data["items"]
    new = path.read_bytes()
    assert only_inserted(PROSE.encode(), new)
    assert b'\n\n## Work breakdown\n\n- [ ] Spike: whether we rotate them nightly? %"' in new
    assert b'\n- [ ] Add a rotation job to the scheduler %"' in new
    plan = _plan(new.decode())
    assert {m.title for m in plan.milestones} >= {"Phase 1: Pilot (2027-03-31)"}
    assert len(plan.items) == len(data["items"])
    again = run_cli("breakdown", str(path), "--write", "-f", "json")
    assert json.loads(again.stdout)["items"] == [] and json.loads(again.stdout)["milestones"] == []
    assert path.read_bytes() == new
    check = run_cli("check", str(path), "--select", "SP301,SP303,SP202")
    assert "SP301" not in check.stdout and "SP303" not in check.stdout, check.stdout
    assert "SP202" not in check.stdout  # the source links point at real anchors


def test_crlf_and_bom_survive_byte_for_byte(tmp_path: Path) -> None:
    original = ("\ufeff" + PROSE).replace("\n", "\r\n").encode()
    path = tmp_path / "p.md"
    path.write_bytes(original)
    assert run_cli("breakdown", str(path), "--write").returncode == 0
    new = path.read_bytes()
    assert new.startswith(b"\xef\xbb\xbf---\r\n")
    assert only_inserted(original, new)
    assert b"\n" not in new.replace(b"\r\n", b"")  # every inserted line ends in CRLF too


def test_text_output_shows_the_block_to_copy_and_unknown_plan_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text(PROSE, encoding="utf-8")
    result = run_cli("breakdown", str(path))
    assert result.returncode == 0, result.stderr
    assert "With --write, this is added" in result.stdout
    assert "- [ ] Add a rotation job to the scheduler" in result.stdout
    assert path.read_text(encoding="utf-8") == PROSE  # nothing written without --write
    assert run_cli("breakdown", "nosuch", "--root", str(tmp_path)).returncode == 2


# --- real documents ---------------------------------------------------------------------------

#: Documents of the corpora that describe no work: a redirect stub, assessments that describe
#: a project's security as it is, a roadmap that is one table, and blank templates.
NO_WORK = {
    "transfer_data/index.md",
    "ci_builds_runner_fleet_metrics/index.md",
    "cncf-tag-security__cert-manager__self-assessment.md",
    "cncf-tag-security__guide__self-assessment.md",
    "cncf-tag-security__kyverno__self-assessment.md",
    "k8s-sig-security__external-audit-roadmap.md",
    "ossf-security-assessments__templates__self-assessment.md",
    "SOURCES.md",
}


def _documents(corpora: Path) -> list[Path]:
    docs = sorted((corpora / "gitlab-blueprints").glob("*/index.md"))
    docs += sorted((corpora / "security-docs").glob("*.md"))
    return docs


@pytest.mark.corpora
def test_real_documents_get_proposals_and_write_only_inserts(corpora: Path, tmp_path: Path) -> None:
    for index, source in enumerate(_documents(corpora)):
        name = f"{source.parent.name}/{source.name}" if source.name == "index.md" else source.name
        original = source.read_bytes()
        root = tmp_path / f"doc{index}"
        root.mkdir()
        path = root / "plan.md"  # a copy in a throw-away folder; the corpora stay read-only
        path.write_bytes(original)
        plan = parse_plan(original.decode("utf-8"), plan_id="plan", path=path, rel_path="plan.md")
        found = propose(plan, original.decode("utf-8"))
        anchors = plan.anchor_ids()
        assert all(p.section in anchors for p in found.items), name
        if name in NO_WORK or plan.items:
            continue
        assert found.items, f"{name}: no work items proposed"
        result = run_cli("breakdown", str(path), "--write", "-f", "json")
        assert result.returncode == 0, f"{name}: {result.stderr}"
        new = path.read_bytes()
        assert only_inserted(original, new), name
        check = run_check([Target(root)], CheckOptions(select=["SP301"]), cwd=root)
        assert not check.findings, f"{name}: {[f.message for f in check.findings]}"
        again = json.loads(run_cli("breakdown", str(path), "-f", "json").stdout)
        assert again["items"] == [] and again["milestones"] == [], name


@pytest.mark.corpora
def test_a_real_document_in_crlf_with_a_bom(corpora: Path, tmp_path: Path) -> None:
    source = corpora / "gitlab-blueprints" / "rate_limiting" / "index.md"
    original = b"\xef\xbb\xbf" + source.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    path = tmp_path / "plan.md"
    path.write_bytes(original)
    assert run_cli("breakdown", str(path), "--write").returncode == 0
    new = path.read_bytes()
    assert new != original and new.startswith(b"\xef\xbb\xbf---\r\n")
    assert only_inserted(original, new)
    assert b"\n" not in new.replace(b"\r\n", b"")
    shutil.rmtree(tmp_path / "plan.md", ignore_errors=True)
