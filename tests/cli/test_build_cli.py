"""``secplan build`` run as a command: the report, the link check's findings and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import EXAMPLE_HANDBOOK, run_cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _copy(src: Path, tmp_path: Path) -> Path:
    root = tmp_path / src.name
    shutil.copytree(src, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def test_the_link_check_reports_broken_links_at_their_plan_lines(tmp_path: Path) -> None:
    root = _copy(FIXTURES / "site-broken", tmp_path)
    result = run_cli("build", "--root", str(root), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if ": broken link " in line]
    assert lines == [
        "links.md:12: broken link missing-plan.md: no file plans/missing-plan.md",
        "links.md:14: broken link good.html#no-such-section: "
        "no anchor #no-such-section in plans/good.html",
        "links.md:16: broken link #not-here: no anchor #not-here in plans/links.html",
        "links.md:16: broken link img/gone.png: no file plans/img/gone.png",
    ]
    # The site is still written in full; --allow-broken-links makes it a success.
    assert (tmp_path / "out" / "plans" / "links.html").is_file()
    again = run_cli(
        "build", "--root", str(root), "--out", str(tmp_path / "out"), "--allow-broken-links"
    )
    assert again.returncode == 0


def test_the_example_handbook_builds_clean(tmp_path: Path) -> None:
    root = _copy(EXAMPLE_HANDBOOK, tmp_path)
    out = tmp_path / "public"
    result = run_cli("build", "--root", str(root), "--out", str(out), "--list-external")
    assert result.returncode == 0, result.stderr
    assert "0 broken links" in result.stderr
    assert "external https://gitlab.example.com/" in result.stdout  # listed, not fetched
    report = run_cli("build", "--root", str(root), "--out", str(out), "--format", "json")
    data = json.loads(report.stdout)
    assert data["plans"] == {"total": 4, "rebuilt": 0} and data["written"] == []
    assert data["broken_links"] == [] and data["external_links"]
    assert not (root / ".secplan" / "secplan.db").exists()


def test_an_output_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    root = _copy(EXAMPLE_HANDBOOK, tmp_path)
    (tmp_path / "taken").write_text("x")
    result = run_cli("build", "--root", str(root), "--out", str(tmp_path / "taken"))
    assert result.returncode != 0
    assert "is a file" in result.stderr and "Traceback" not in result.stderr
