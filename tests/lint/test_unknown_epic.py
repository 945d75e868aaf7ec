"""SP404: an `epic` the tracker does not have, checked only against a database that exists."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

PLAN = """\
---
title: {title}
status: review
epic: {epic}
---

# {title}
"""


def _handbook(tmp_path: Path) -> Path:
    root = tmp_path / "hb"
    root.mkdir()
    (root / "index.md").write_text("# Plans\n", encoding="utf-8")
    (root / "real.md").write_text(PLAN.format(title="Real", epic="sec&1"), encoding="utf-8")
    (root / "ghost.md").write_text(PLAN.format(title="Ghost", epic="sec&99"), encoding="utf-8")
    return root


def test_an_epic_missing_from_the_tracker_is_reported(tmp_path: Path) -> None:
    root = _handbook(tmp_path)
    created = run_cli("epic", "create", "sec", "Real epic", "--root", str(root))
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1] == "sec&1"
    result = run_cli("check", "--select", "SP404", "--require", "ready", cwd=root)
    assert result.returncode == 1
    assert "ghost.md:4:1: SP404 epic sec&99 does not exist in the tracker" in result.stdout
    assert "real.md" not in result.stdout


def test_without_a_tracker_database_it_is_skipped_with_a_note(tmp_path: Path) -> None:
    root = _handbook(tmp_path)
    result = run_cli("check", "--select", "SP404", "--require", "ready", cwd=root)
    assert result.returncode == 0, result.stdout
    assert "SP404" not in result.stdout
    assert "epics were not checked against the tracker" in result.stderr
    assert not (root / ".secplan" / "secplan.db").exists()  # never created by a check


def test_a_database_url_naming_no_file_is_not_created(tmp_path: Path) -> None:
    root = _handbook(tmp_path)
    missing = tmp_path / "nowhere.db"
    result = run_cli(
        "check", "--select", "SP404", "--database-url", f"sqlite:///{missing}", cwd=root
    )
    assert result.returncode == 0 and "SP404" not in result.stdout
    assert not missing.exists()


def test_with_the_gitlab_backend_the_local_store_is_not_taken_for_the_tracker(
    tmp_path: Path,
) -> None:
    root = _handbook(tmp_path)
    # secplan's own store exists (sync records, review threads) but holds no GitLab epics.
    created = run_cli("epic", "create", "sec", "Local epic", "--root", str(root))
    assert created.returncode == 0, created.stderr
    (root / "secplan.toml").write_text(
        'backend = "gitlab"\ngitlab_url = "https://gitlab.example.com"\n'
        'group = "sec"\ntracker = "sec/plans"\n',
        encoding="utf-8",
    )
    result = run_cli("check", "--select", "SP404", "--require", "ready", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SP404" not in result.stdout
    assert "check does not contact the gitlab tracker" in result.stderr
