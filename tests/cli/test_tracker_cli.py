"""The tracker commands as scripts use them: refs on the last line, stable JSON, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_create_list_show_close_reopen(tmp_path: Path) -> None:
    root = ["--root", str(tmp_path)]
    made = run_cli("milestone", "create", "sec", "Q1", "--due", "2027-03-31", *root)
    assert made.returncode == 0, made.stderr
    first = run_cli(
        "issue", "create", "sec/appsec/plans", "Rotate certs", "--description", "Body text",
        "--label", "tls", "--label", "plan", "--milestone", "Q1", "--assignee", "bob", *root,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert last_line(first.stdout) == "sec/appsec/plans#1"
    second = run_cli("issue", "create", "sec/appsec/plans", "Public one", "--public", *root)
    assert last_line(second.stdout) == "sec/appsec/plans#2"
    assert (tmp_path / ".secplan" / "secplan.db").is_file()

    listed = run_cli("issue", "list", "sec/appsec/plans", "--format", "json", *root)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [d["ref"] for d in data] == ["sec/appsec/plans#1", "sec/appsec/plans#2"]
    one = data[0]
    for key in ("ref", "title", "state", "labels", "milestone", "confidential", "epic"):
        assert key in one
    assert one["description"] == "Body text"
    assert (one["labels"], one["milestone"], one["confidential"]) == (["tls", "plan"], "Q1", True)
    assert data[1]["confidential"] is False
    by_label = run_cli("issue", "list", "--label", "tls", "--format", "json", *root)
    assert [d["ref"] for d in json.loads(by_label.stdout)] == [one["ref"]]

    closed = run_cli("issue", "close", "sec/appsec/plans#1", "--note", "Done.", *root)
    assert last_line(closed.stdout) == "sec/appsec/plans#1"
    opened = json.loads(run_cli("issue", "list", "--format", "json", *root).stdout)
    assert [d["ref"] for d in opened] == ["sec/appsec/plans#2"]
    shown = json.loads(
        run_cli("issue", "show", "sec/appsec/plans#1", "--format", "json", *root).stdout
    )
    assert shown["state"] == "closed"
    assert [n["body"] for n in shown["notes"]] == ["Done."]
    assert [e["state"] for e in shown["events"]] == ["opened", "closed"]
    assert run_cli("issue", "reopen", "sec/appsec/plans#1", *root).returncode == 0

    table = run_cli("issue", "list", "--state", "all", *root)
    assert "sec/appsec/plans#1" in table.stdout and "Rotate certs" in table.stdout
    text = run_cli("issue", "show", "sec/appsec/plans#1", *root)
    assert "Body text" in text.stdout and "Done." in text.stdout
    milestones = json.loads(run_cli("milestone", "list", "--format", "json", *root).stdout)
    assert [(m["group"], m["title"], m["due"]) for m in milestones] == [("sec", "Q1", "2027-03-31")]


def test_promote_prints_the_epic_ref_last_and_refuses_twice(tmp_path: Path) -> None:
    root = ["--root", str(tmp_path)]
    run_cli("issue", "create", "sec/appsec/plans", "Plan: TLS", "--label", "plan", *root)
    run_cli("issue", "note", "sec/appsec/plans#1", "Needs a plan.", *root)
    promoted = run_cli("promote", "sec/appsec/plans#1", *root)
    assert promoted.returncode == 0, promoted.stderr
    assert last_line(promoted.stdout) == "sec/appsec&1"
    epic = json.loads(run_cli("epic", "show", "sec/appsec&1", "--format", "json", *root).stdout)
    assert (epic["title"], epic["labels"], epic["confidential"]) == ("Plan: TLS", ["plan"], True)
    assert "Needs a plan." in [n["body"] for n in epic["notes"]]
    epics = json.loads(run_cli("epic", "list", "--format", "json", *root).stdout)
    assert [e["ref"] for e in epics] == ["sec/appsec&1"]

    again = run_cli("promote", "sec/appsec/plans#1", *root)
    assert again.returncode == 1
    assert "Error: sec/appsec/plans#1 was already promoted to sec/appsec&1" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("issue", "show", "sec/app/plans#7"), 1, "Error: issue sec/app/plans#7 not found"),
        (("issue", "show", "not-a-ref"), 2, "Error: not an issue reference"),
        (("issue", "create", "sec", "No group"), 2, "Error: project 'sec' has no group"),
        (("issue", "create", "sec/a/p", "T", "--milestone", "Q9"), 1, "milestone 'Q9' not found"),
        (("promote", "sec/app/plans#3"), 1, "Error: issue sec/app/plans#3 not found"),
        (("epic", "show", "sec&4"), 1, "Error: epic sec&4 not found"),
        (("milestone", "create", "sec", "M", "--due", "soon"), 2, "is not a date"),
        (("issue", "list", "--state", "open"), 2, "Invalid value"),
    ],
)
def test_errors_are_messages_not_tracebacks(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run_cli(*args, "--root", str(tmp_path))
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_database_url_from_the_environment(postgres_url: str, tmp_path: Path) -> None:
    env = {"SECPLAN_DATABASE_URL": postgres_url}
    made = run_cli("issue", "create", "sec/a/p", "In PostgreSQL", cwd=tmp_path, env=env)
    assert last_line(made.stdout) == "sec/a/p#1", made.stderr
    assert not (tmp_path / ".secplan").exists()
    listed = run_cli("issue", "list", "--database-url", postgres_url, "--format", "json")
    assert [d["title"] for d in json.loads(listed.stdout)] == ["In PostgreSQL"]


def test_epic_create_and_issue_update(tmp_path: Path) -> None:
    root = ["--root", str(tmp_path)]
    epic = run_cli("epic", "create", "sec", "Programme", "--label", "p", "--public", *root)
    assert last_line(epic.stdout) == "sec&1", epic.stderr
    run_cli("issue", "create", "sec/a/p", "Draft title", "-l", "keep", "-l", "drop", *root)
    updated = run_cli(
        "issue", "update", "sec/a/p#1", "--title", "Final title", "--add-label", "new",
        "--remove-label", "drop", "--epic", "sec&1", *root,
    )  # fmt: skip
    assert last_line(updated.stdout) == "sec/a/p#1", updated.stderr
    [issue] = json.loads(run_cli("issue", "list", "--format", "json", *root).stdout)
    assert (issue["title"], issue["labels"], issue["epic"]) == (
        "Final title",
        ["keep", "new"],
        "sec&1",
    )
    [e] = json.loads(run_cli("epic", "list", "--format", "json", *root).stdout)
    assert (e["ref"], e["confidential"], e["labels"]) == ("sec&1", False, ["p"])
    nothing = run_cli("issue", "update", "sec/a/p#1", *root)
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr


def test_short_refs_use_the_configured_project_and_group(tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text('tracker = "sec/plans"\ngroup = "sec"\n', "utf-8")
    run_cli("issue", "create", "sec/plans", "Source issue", cwd=tmp_path)
    promoted = run_cli("promote", "#1", cwd=tmp_path)
    assert last_line(promoted.stdout) == "sec&1", promoted.stderr
    shown = json.loads(run_cli("epic", "show", "&1", "--format", "json", cwd=tmp_path).stdout)
    assert shown["title"] == "Source issue"
    elsewhere = run_cli("issue", "show", "#1", "--root", str(tmp_path / "sub"))
    assert elsewhere.returncode == 2 and "needs a default tracker" in elsewhere.stderr
