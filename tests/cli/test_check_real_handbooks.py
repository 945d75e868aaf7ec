"""``secplan check`` on pages written for other tools: static sites, design documents, KEPs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secplan.config import load_config
from secplan.handbook import load_handbook
from secplan.handbook.catalog import END_MARKER, START_MARKER
from secplan.lint import fix as fix_module
from secplan.lint.formats import text
from secplan.lint.runner import CheckOptions, Target, run_check
from tests.conftest import FIXTURES, run_cli

MIDDLEMAN = FIXTURES / "middleman-handbook"

PLAN = """\
---
title: Proposal
status: {status}
{extra}---

# Proposal

Prose only.
"""


def handbook(tmp_path: Path, toml: str = "", **plans: str) -> Path:
    root = tmp_path / "hb"
    root.mkdir()
    (root / "index.md").write_text("# Plans\n", encoding="utf-8")
    if toml:
        (root / "secplan.toml").write_text(toml, encoding="utf-8")
    for name, body in plans.items():
        (root / f"{name}.md").write_text(body, encoding="utf-8")
    return root


def test_status_words_and_known_keys_come_from_the_configuration(tmp_path: Path) -> None:
    root = handbook(
        tmp_path,
        'known_keys = ["no_list"]\nstatuses = { wip = "review" }\n',
        a=PLAN.format(status="wip", extra="no_list: true\nlayout: page\n"),
        b=PLAN.format(status="accepted", extra="menu: main\n"),
    )
    result = run_cli("check", "--select", "SP1", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
    shown = run_cli("show", "a", "--root", str(root), "-f", "json")
    assert '"status": "review"' in shown.stdout  # mapped, not just accepted


def test_statuses_config_rejects_an_unknown_target(tmp_path: Path) -> None:
    root = handbook(tmp_path, 'statuses = { wip = "doing" }\n')
    result = run_cli("check", cwd=root)
    assert result.returncode == 2
    assert "'statuses' must be a table of status word -> one of draft" in result.stderr


def test_broken_yaml_is_one_finding_at_the_right_line(tmp_path: Path) -> None:
    root = handbook(
        tmp_path,
        broken='---\ntitle: "Broken\nmilestones:\n  - title: M1\n---\n# B\n\n- [ ] Do it %M1\n',
    )
    result = run_cli("check", "--select", "SP1,SP303", cwd=root)
    assert "broken.md:2:8: SP106 invalid YAML in front matter: while scanning a quoted scalar" in (
        result.stdout
    )
    assert "SP303" not in result.stdout and "SP101" not in result.stdout


def test_outside_a_handbook_readmes_are_not_plans_and_nothing_is_written(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "README.md").write_text("# Project\n\nTODO: everything\n", encoding="utf-8")
    (repo / "docs" / "CONTRIBUTING.md").write_text("# How\n", encoding="utf-8")
    (repo / "docs" / "plan.md").write_text(PLAN.format(status="draft", extra=""), "utf-8")
    kep = repo / "keps" / "1-thing"
    kep.mkdir(parents=True)
    (kep / "README.md").write_text("# Thing\n", encoding="utf-8")
    (kep / "kep.yaml").write_text("title: Thing\nkep-number: 1\nstatus: provisional\n", "utf-8")
    result = run_cli("check", cwd=repo)
    assert "no secplan.toml" in result.stderr and "README-like files skipped" in result.stderr
    assert "README.md:3" not in result.stdout and "CONTRIBUTING" not in result.stdout
    assert "in 2 plans" in result.stdout  # docs/plan.md and the KEP's README
    assert not (repo / ".secplan").exists()


def test_a_failed_fix_does_not_claim_fixable(tmp_path: Path, monkeypatch) -> None:
    root = handbook(tmp_path, a=PLAN.format(status="draft", extra=""))
    (root / "index.md").write_text(f"# Plans\n\n{START_MARKER}\n{END_MARKER}\n", "utf-8")

    def refuse(_handbook: object) -> bool:
        raise PermissionError(30, "Read-only file system", str(root / "index.md"))

    monkeypatch.setattr(fix_module, "write_catalog", refuse)
    result = run_check([Target(root)], CheckOptions(fix=True), cwd=root)
    assert any(f.code == "SP001" for f in result.findings)
    assert any("could not rewrite the catalog page" in n for n in result.notes)

    class Out:
        text = ""

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

    out = Out()
    text.write(result, out)  # type: ignore[arg-type]
    assert "fixable" not in out.text and "[*]" not in out.text


def test_sp401_points_at_adopt_when_the_catalog_links_the_epic(tmp_path: Path) -> None:
    root = tmp_path / "mm"
    shutil.copytree(MIDDLEMAN, root)
    page = root / "secrets-management" / "index.html.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "no_list: true\n", "no_list: true\nstatus: review\n"
        ),
        encoding="utf-8",
    )
    result = run_cli("check", "--select", "SP401", cwd=root)
    assert "the catalog table links epic gitlab-com/gl-security&12: `secplan adopt`" in (
        result.stdout
    )


def test_help_shows_no_python_types_and_errors_no_pydantic_words() -> None:
    check_help = run_cli("check", "--help").stdout
    assert "<bool>" not in check_help and "<list[str]>" not in check_help
    assert "--fix" in check_help
    assert "[[ROOT]]" not in run_cli("serve", "--help").stdout
    bad = run_cli("check", "--require", "done")
    assert bad.returncode == 2
    assert "'done' is not one of 'ready'" in bad.stderr and "Value error" not in bad.stderr


def test_unknown_plan_is_a_usage_error_in_show_and_check(tmp_path: Path) -> None:
    root = handbook(tmp_path)
    assert run_cli("show", "nosuch", "--root", str(root)).returncode == 2
    assert run_cli("check", "nosuch.md", cwd=root).returncode == 2


# --- real documents ---------------------------------------------------------------------------


@pytest.mark.corpora
def test_design_documents_need_no_configuration(corpora: Path) -> None:
    root = corpora / "gitlab-blueprints"
    result = run_check([Target(root)], CheckOptions(select=["SP102", "SP105"]), cwd=root)
    assert [f"{f.path}:{f.code}" for f in result.findings] == []


@pytest.mark.corpora
def test_keps_read_their_kep_yaml(corpora: Path) -> None:
    root = corpora / "keps"
    hb = load_handbook(root, load_config(root), use_cache=False)
    keps = [p for p in hb.plans if p.path.name == "README.md"]
    assert len(keps) > 50
    suspend = hb.get("sig-apps/2232-suspend-jobs/README")
    assert suspend is not None
    assert (suspend.title, suspend.status, suspend.owners) == (
        "Suspend Job",
        "implemented",
        ["adtac"],
    )
    assert [m.title for m in suspend.milestones] == ["alpha", "beta", "stable"]
    assert "sig-apps" in suspend.labels
    result = run_check([Target(root)], CheckOptions(select=["SP102", "SP105"]), cwd=root)
    statuses = {f.message.split("'")[1] for f in result.findings if f.code == "SP102"}
    # Only words that are no KEP status at all remain (the template's placeholder, a typo...).
    assert statuses <= {
        "provisional|implementable|implemented|deferred|rejected|withdrawn|replaced",
        "removed",
        "imlpemented",
        "implemented (alpha)",
    }
    assert not [f for f in result.findings if f.code == "SP105"]
