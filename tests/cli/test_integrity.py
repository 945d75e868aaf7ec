"""A ref never credits the wrong issue, and read-only commands never create a database.

The clone scenario: a handbook applied with ``--write-back`` is committed and cloned; the clone's
tracker (the git-ignored database) is empty, so the refs written into its plans name issues that
do not exist there, or — after an apply in the clone — other items' issues.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_HANDBOOK, FIXTURES, run_cli


def secplan(root: Path, *args: str, db: str | None = None):
    extra = ["--database-url", db] if db else []
    return run_cli(*args, "--root", str(root), *extra)


def clone(src: Path, dest: Path) -> Path:
    """What git would give: the files, without the ignored ``.secplan/``."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".secplan"))
    return dest


def test_a_clone_with_an_empty_tracker_reports_conflicts_and_credits_nothing(
    tmp_path: Path, database_url: str
):
    original = tmp_path / "original"
    shutil.copytree(FIXTURES / "sync" / "basic", original)
    first = secplan(original, "apply", "--write-back", db=database_url)
    assert first.returncode == 0, first.stderr
    written = re.findall(r"appsec/\w+#\d+", (original / "token-hardening.md").read_text("utf-8"))
    assert len(written) == 4

    copy = clone(original, tmp_path / "clone")
    applied = secplan(copy, "apply")  # the clone's own, empty tracker
    assert applied.returncode == 1
    assert "Traceback" not in applied.stderr
    for ref in written:
        assert f"names {ref}, which the tracker does not have" in applied.stdout
    assert re.search(r"token-hardening\.md:\d+: item '", applied.stdout)

    # apply made issues for the items without refs: #1, #2 ... now exist, under other items.
    again = secplan(copy, "apply")
    assert again.returncode == 1
    coverage = secplan(copy, "coverage", "--format", "json")
    assert coverage.returncode == 1, coverage.stderr
    by_plan = {pc["plan"]: pc for pc in json.loads(coverage.stdout)}
    tokens = by_plan["token-hardening"]
    for item in tokens["items"]:
        if item["ref"] in written:
            assert item["state"] is None and item["conflict"] is True, item
    assert tokens["totals"]["open"] + tokens["totals"]["closed"] == 0
    assert any("not credited" in p for p in tokens["problems"])


@pytest.mark.parametrize("command", ["plan", "status", "coverage", "check"])
def test_read_only_commands_create_no_database(tmp_path: Path, command: str):
    root = shutil.copytree(EXAMPLE_HANDBOOK, tmp_path / "handbook")
    result = secplan(root, command)
    assert "Traceback" not in result.stderr
    assert not (root / ".secplan" / "secplan.db").exists()
    if command in ("status", "coverage"):
        assert result.returncode == 1
        assert "no tracker database at" in result.stderr
        assert "`secplan apply` creates it" in result.stderr
    if command == "plan":
        assert "no tracker database at" in result.stderr  # said, and the plan still shown
        assert "Plan:" in result.stdout


def test_a_database_url_in_a_missing_folder_is_not_created(tmp_path: Path):
    root = shutil.copytree(EXAMPLE_HANDBOOK, tmp_path / "handbook")
    url = f"sqlite:///{tmp_path / 'nonexistent' / 'dir' / 'x.db'}"
    for command in ("plan", "status"):
        result = secplan(root, command, db=url)
        assert "no tracker database at" in result.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_a_written_ref_to_a_hand_made_issue_is_a_conflict(tmp_path: Path):
    root = shutil.copytree(FIXTURES / "sync" / "basic", tmp_path / "handbook")
    made = secplan(root, "issue", "create", "appsec/planning", "Made by hand")
    assert made.returncode == 0, made.stderr
    ref = made.stdout.strip().splitlines()[-1]
    path = root / "scanner-rollout.md"
    text = path.read_text("utf-8")
    line = "- [ ] Write the bypass runbook %Pilot"
    assert line in text
    path.write_text(text.replace(line, f"{line} {ref}"), "utf-8")
    result = secplan(root, "apply")
    assert result.returncode == 1
    assert f"names {ref}, which secplan did not make for it" in result.stdout
