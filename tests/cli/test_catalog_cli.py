"""``secplan catalog`` as a real process: print, --write, --format json, unmanaged pages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_HANDBOOK, FIXTURES, run_cli


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def test_prints_the_table(handbook: Path) -> None:
    result = run_cli("catalog", "--root", str(handbook))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "| Plan | Status | Epic | Other Resources and Links |"
    assert lines[4].startswith(
        "| [Secrets rotation for CI runners](./ci-runner-secrets-rotation) | ready | security&1 |"
    )
    assert len(lines) == 2 + 4


def test_json_is_one_document(handbook: Path) -> None:
    result = run_cli("catalog", "--format", "json", cwd=handbook)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["id"] for p in data] == [
        "admin-mfa",
        "bastion-host-hardening",
        "ci-runner-secrets-rotation",
        "vulnerability-sla-dashboard",
    ]
    assert data[0]["epic"] == "security&2" and data[0]["status"] == "implementing"


def test_write_updates_the_page_and_check_agrees(handbook: Path) -> None:
    plan = handbook / "bastion-host-hardening.md"
    plan.write_text(plan.read_text().replace("title: Bastion host hardening", "title: Bastions"))
    stale = run_cli("check", "--root", str(handbook), "--select", "SP001")
    assert stale.returncode == 1 and "SP001" in stale.stdout

    result = run_cli("catalog", "--write", "--root", str(handbook))
    assert result.returncode == 0, result.stderr
    assert "catalog updated" in result.stderr
    assert (
        "| [Bastions](./bastion-host-hardening) | superseded |"
        in (handbook / "index.md").read_text()
    )
    fresh = run_cli("check", "--root", str(handbook), "--select", "SP001")
    assert fresh.returncode == 0, fresh.stdout

    again = run_cli("catalog", "--write", "--root", str(handbook))
    assert again.returncode == 0 and "already up to date" in again.stderr


def test_write_without_markers_fails_with_a_hint(tmp_path: Path) -> None:
    root = tmp_path / "mm"
    shutil.copytree(FIXTURES / "middleman-handbook", root)
    before = (root / "index.html.md").read_bytes()
    result = run_cli("catalog", "--write", "--root", str(root))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Error:" in result.stderr and "index.html.md" in result.stderr
    assert "Hint:" in result.stderr and "secplan adopt" in result.stderr
    assert "Traceback" not in result.stderr
    assert (root / "index.html.md").read_bytes() == before


def test_printing_an_unmanaged_catalog_works_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "mm"
    shutil.copytree(FIXTURES / "middleman-handbook", root)
    result = run_cli("catalog", "--format", "json", "--root", str(root))
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 5
    assert "secplan adopt" in result.stderr


def test_bad_format_is_a_usage_error(handbook: Path) -> None:
    result = run_cli("catalog", "--format", "yaml", "--root", str(handbook))
    assert result.returncode == 2


def test_unwritable_page_is_a_clear_error(tmp_path: Path) -> None:
    from secplan.errors import SecplanError
    from secplan.handbook.catalog import atomic_write

    with pytest.raises(SecplanError, match="cannot write the file") as info:
        atomic_write(tmp_path / "missing-dir" / "index.md", "x")
    assert info.value.path == (tmp_path / "missing-dir" / "index.md").resolve()
    page = tmp_path / "page.md"
    page.write_text("old")
    atomic_write(page, "new\r\n")
    assert page.read_bytes() == b"new\r\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".page")] == []
