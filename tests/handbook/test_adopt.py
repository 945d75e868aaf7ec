"""Adoption of a Middleman-style handbook with a hand-written catalog table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from secplan.errors import NotFoundError, SecplanError
from secplan.handbook import load_handbook
from secplan.handbook.adopt import _candidate_paths, adopt_handbook, find_hand_table
from secplan.handbook.catalog import END_MARKER, START_MARKER, catalog_status
from secplan.handbook.frontmatter_edit import FrontMatterEdit, edit_front_matter_text
from tests.conftest import FIXTURES, run_cli

MIDDLEMAN = FIXTURES / "middleman-handbook"


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    shutil.copytree(MIDDLEMAN, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".secplan" not in p.parts
    }


def _front(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def _body(path: Path) -> bytes:
    data = path.read_bytes()
    return data[data.index(b"\n---\n", 3) :]


def test_adopt_fills_front_matter_from_the_table(handbook: Path) -> None:
    report = adopt_handbook(load_handbook(handbook))

    assert sorted(report.updated_plans) == [
        "log-retention",
        "secrets-management",
        "security-enclave",
    ]
    secrets = _front(handbook / "secrets-management" / "index.html.md")
    assert secrets["epic"] == "gitlab-com/gl-security&12"
    assert secrets["resources"] == [
        {
            "title": "Issue board",
            "url": "https://gitlab.com/groups/gitlab-com/gl-security/-/boards/4211?label_name[]=secrets",
        }
    ]
    enclave = _front(handbook / "security-enclave.html.md")
    assert enclave["epic"] == "gitlab-com/gl-security&7"
    assert enclave["title"] == "Security Enclave"  # the page had none; the table names it
    assert [r["title"] for r in enclave["resources"]] == ['Label ~"enclave"', "Design review"]
    logs = _front(handbook / "log-retention" / "index.html.md")
    assert logs["epic"] == "gitlab-com/gl-security/security-operations&3"
    assert "resources" not in logs


def test_adopt_keeps_everything_else_byte_identical(handbook: Path) -> None:
    before = _snapshot(handbook)
    adopt_handbook(load_handbook(handbook))
    after = _snapshot(handbook)

    # Already complete: the epic matches and the scanner link is already a resource.
    assert after["token-hygiene.html.md"] == before["token-hygiene.html.md"]
    assert after["incident-drills.html.md"] == before["incident-drills.html.md"]
    for rel in ("secrets-management/index.html.md", "security-enclave.html.md"):
        assert _body(handbook / rel) == _body(MIDDLEMAN / rel)
    # Only new keys were added: dropping the added lines gives back the original file.
    secrets_old = before["secrets-management/index.html.md"].decode().splitlines()
    secrets_new = after["secrets-management/index.html.md"].decode().splitlines()
    added = [line for line in secrets_new if line not in secrets_old]
    assert [line for line in secrets_new if line not in added] == secrets_old
    assert added[0] == "epic: gitlab-com/gl-security&12"
    assert "# Owners are the DRIs listed in the security team page." in secrets_new
    assert "layout: handbook-page-toc" in secrets_new and "no_list: true" in secrets_new


def test_adopt_replaces_the_table_with_the_managed_catalog(handbook: Path) -> None:
    index = handbook / "index.html.md"
    original = index.read_text(encoding="utf-8")
    table = find_hand_table(original)
    assert table is not None
    report = adopt_handbook(load_handbook(handbook))
    text = index.read_text(encoding="utf-8")

    start = original.index("| Plan | Other Resources and Links |")
    assert text.startswith(original[:start] + START_MARKER + "\n")
    assert text.endswith(
        "\n\n## How to add a plan\n\nOpen a merge request that adds the plan page"
        " and a row to the table above.\n"
    )
    assert (
        "| [Secrets management](./secrets-management) | draft | gitlab-com/gl-security&12 |" in text
    )
    assert "{:toc .hidden-md .hidden-lg}" in text  # kramdown markers before the table untouched
    assert report.catalog_changed and report.table_line == 18
    assert not catalog_status(load_handbook(handbook)).stale


def test_adopt_reports_unlisted_plans_and_keeps_rows_naming_no_plan(handbook: Path) -> None:
    report = adopt_handbook(load_handbook(handbook))
    assert report.unlisted_plans == ["incident-drills"]
    assert report.unknown_rows == [(24, "Bug bounty triage (archived)")]
    text = (handbook / "index.html.md").read_text(encoding="utf-8")
    after_end = text.split(END_MARKER, 1)[1]
    assert "[Bug bounty triage (archived)](https://handbook.gitlab.com/" in after_end
    assert "| Plan | Other Resources and Links |" in after_end


def test_second_run_changes_nothing(handbook: Path) -> None:
    adopt_handbook(load_handbook(handbook))
    first = _snapshot(handbook)
    report = adopt_handbook(load_handbook(handbook))
    assert report.already_managed and not report.catalog_changed and not report.updated_plans
    assert _snapshot(handbook) == first


def test_dry_run_writes_nothing(handbook: Path) -> None:
    before = _snapshot(handbook)
    report = adopt_handbook(load_handbook(handbook), dry_run=True)
    assert report.updated_plans and report.catalog_changed
    assert _snapshot(handbook) == before


def test_a_different_epic_already_in_the_plan_is_kept(handbook: Path) -> None:
    path = handbook / "log-retention" / "index.html.md"
    path.write_text(path.read_text().replace("status: draft\n", "status: draft\nepic: sec&99\n"))
    report = adopt_handbook(load_handbook(handbook))
    front = _front(path)
    assert front["epic"] == "sec&99"
    assert front["resources"][0]["url"].endswith("/security-operations/-/epics/3")
    assert any("keeps epic sec&99" in c for c in report.conflicts)


def test_page_without_a_plan_table_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("---\ntitle: P\n---\n")
    (tmp_path / "index.md").write_text("# Plans\n\n| Name | Owner |\n| --- | --- |\n| a | b |\n")
    with pytest.raises(NotFoundError, match="no table with a 'Plan' column"):
        adopt_handbook(load_handbook(tmp_path))


def test_cli_adopt_twice(handbook: Path) -> None:
    first = run_cli("adopt", str(handbook))
    assert first.returncode == 0, first.stderr
    assert "Updated front matter: secrets-management" in first.stdout
    assert "incident-drills is on disk but not in the table" in first.stderr
    assert "index.html.md:24" in first.stderr
    assert "gitlab_url = 'https://gitlab.com'" in first.stderr
    snapshot = _snapshot(handbook)
    second = run_cli("adopt", "--root", str(handbook))
    assert second.returncode == 0, second.stderr
    assert "already managed" in second.stdout
    assert _snapshot(handbook) == snapshot


def test_cli_adopt_without_catalog_page(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("---\ntitle: P\n---\n")
    result = run_cli("adopt", str(tmp_path))
    assert result.returncode == 1
    assert "Error:" in result.stderr and "no catalog page" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("./secrets-management/", "secrets-management"),
        ("security-enclave.html", "security-enclave"),
        ("/handbook/security/planning/log-retention/", "log-retention"),
        ("https://handbook.gitlab.com/handbook/security/planning/token-hygiene/", "token-hygiene"),
        ("team/plan.md#summary", "plan"),
        ("team/plan/index.html.md", "plan"),
    ],
)
def test_link_targets_map_to_plan_ids(url: str, expected: str) -> None:
    assert expected in _candidate_paths(url)


def test_issue_and_epic_links_never_name_a_plan() -> None:
    assert _candidate_paths("https://gitlab.com/groups/g/-/epics/3") == []
    assert _candidate_paths("https://gitlab.com/g/p/-/issues/3") == []
    assert _candidate_paths("mailto:security@example.com") == []


# -- front-matter editing -----------------------------------------------------------------


def test_edit_keeps_comments_quotes_and_unknown_keys() -> None:
    text = (
        "---\nlayout: handbook-page-toc\ntitle: 'Quoted: title'  # why\n"
        "resources:\n- title: A\n  url: https://a   # keep me\n\n# trailing\nno_list: true\n"
        "---\nBody *stays*\n"
    )
    edit = FrontMatterEdit(
        set={"epic": "g&3"}, append={"resources": [{"title": "B: colon", "url": "https://b"}]}
    )
    out = edit_front_matter_text(text, edit)
    assert out == (
        "---\nlayout: handbook-page-toc\ntitle: 'Quoted: title'  # why\n"
        "resources:\n- title: A\n  url: https://a   # keep me\n- title: 'B: colon'\n"
        "  url: https://b\n\n# trailing\nno_list: true\nepic: g&3\n---\nBody *stays*\n"
    )
    assert yaml.safe_load(out.split("---\n")[1])["resources"][1]["title"] == "B: colon"


def test_edit_with_crlf_and_flow_list() -> None:
    text = "---\r\ntitle: X\r\nresources: []\r\ntags: [a,  b]\r\n---\r\nbody\r\n"
    out = edit_front_matter_text(
        text, FrontMatterEdit(append={"resources": [{"title": "B", "url": "https://b"}]})
    )
    assert out == (
        "---\r\ntitle: X\r\nresources:\r\n  - title: B\r\n    url: https://b\r\n"
        "tags: [a,  b]\r\n---\r\nbody\r\n"
    )


def test_edit_adds_front_matter_when_there_is_none() -> None:
    out = edit_front_matter_text("# Hi\n", FrontMatterEdit(set={"title": "Hi"}))
    assert out == "---\ntitle: Hi\n---\n# Hi\n"


def test_edit_setting_the_same_value_changes_nothing() -> None:
    text = "---\ntitle: X\nepic: g&3   # comment\n---\n"
    assert edit_front_matter_text(text, FrontMatterEdit(set={"epic": "g&3"})) == text


def test_edit_refuses_front_matter_that_is_not_a_mapping() -> None:
    with pytest.raises(SecplanError, match="not a mapping"):
        edit_front_matter_text("---\n- a\n- b\n---\n", FrontMatterEdit(set={"epic": "g&1"}))


def test_two_rows_for_one_plan_both_count(handbook: Path) -> None:
    index = handbook / "index.html.md"
    extra = "| [Log retention, part 2](./log-retention) | [Runbook](https://r.example/logs) |\n"
    text = index.read_text(encoding="utf-8")
    index.write_text(
        text.replace("\n\n## How to add", "\n" + extra.rstrip("\n") + "\n\n## How to add")
    )
    adopt_handbook(load_handbook(handbook))
    front = _front(handbook / "log-retention" / "index.html.md")
    assert front["epic"] == "gitlab-com/gl-security/security-operations&3"
    assert front["resources"] == [{"title": "Runbook", "url": "https://r.example/logs"}]


def test_broken_plan_front_matter_stops_adoption_before_any_write(handbook: Path) -> None:
    broken = handbook / "security-enclave.html.md"
    broken.write_text("---\nlayout: [unclosed\n---\n# Enclave\n", encoding="utf-8")
    before = _snapshot(handbook)
    result = run_cli("adopt", str(handbook))
    assert result.returncode == 1
    assert "security-enclave.html.md" in result.stderr and "Traceback" not in result.stderr
    assert _snapshot(handbook) == before


def test_edit_keeps_a_byte_order_mark_in_front() -> None:
    out = edit_front_matter_text(
        "\ufeff---\ntitle: X\n---\nbody\n", FrontMatterEdit(set={"epic": "g&1"})
    )
    assert out == "\ufeff---\ntitle: X\nepic: g&1\n---\nbody\n"


def test_cli_json_report_and_gitlab_url_hint(handbook: Path) -> None:
    result = run_cli("adopt", str(handbook), "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["catalog_changed"] is True
    assert data["unknown_rows"] == [{"line": 24, "text": "Bug bounty triage (archived)"}]
    assert data["suggested_gitlab_url"] == "https://gitlab.com"

    (handbook / "secplan.toml").write_text('gitlab_url = "https://gitlab.com"\n')
    text = run_cli("adopt", str(handbook))
    assert text.returncode == 0 and "gitlab_url" not in text.stderr
    index = (handbook / "index.html.md").read_text(encoding="utf-8")
    assert (
        "[gitlab-com/gl-security&12](https://gitlab.com/groups/gitlab-com/gl-security/-/epics/12)"
        in index
    )
