"""``secplan show PLAN``, run as a real subprocess.

The text and JSON output of the fixture plans are snapshots under ``snapshots/``, compared
exactly; regenerate after an intended change with
``SECPLAN_UPDATE_SNAPSHOTS=1 pytest tests/cli/test_show.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import snapshot
from tests.conftest import FIXTURES, run_cli


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    (tmp_path / "index.md").write_text("# Catalog\n", encoding="utf-8")
    (tmp_path / "team").mkdir()
    shutil.copy(FIXTURES / "parser" / "full-plan.md", tmp_path / "team" / "rotation.md")
    shutil.copy(FIXTURES / "parser" / "kramdown-plan.md", tmp_path / "team" / "kramdown.md")
    (tmp_path / "broken.md").write_bytes(b"\x00\x01binary")
    return tmp_path


def test_show_json_has_the_documented_shape(handbook: Path) -> None:
    result = run_cli("show", "team/rotation", "--root", str(handbook), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("id", "title", "status", "epic", "milestones", "sections", "anchors", "items"):
        assert key in data
    assert data["id"] == "team/rotation"
    assert data["epic"] == "security/platform&16"
    assert data["milestones"][0] == {
        "title": "Inventory",
        "due": "2026-03-01",
        "start": "2026-02-01",
        "description": "Know every secret",
        "line": 10,
    }
    assert {"title", "level", "anchor", "line"} <= set(data["sections"][0])
    assert "work" in data["anchors"]
    item = data["items"][1]
    assert {
        k: item[k] for k in ("id", "milestone", "labels", "section", "spike", "ref", "line")
    } == {
        "id": "rotate-the-registration-token",
        "milestone": "Rotation live",
        "labels": ["token hygiene"],
        "section": "work",
        "spike": False,
        "ref": "security/runners#12",
        "line": 54,
    }
    assert data["items"][-1]["generated"] is True
    assert data["requirements"][0] == {
        "id": "requirements-r1",
        "level": "must",
        "keyword": "MUST NOT",
        "text": "Rotation MUST NOT interrupt running jobs.",
        "section": "requirements",
        "line": 34,
    }
    assert data["diagnostics"] == []
    assert data["front_matter"]["milestones"][0]["due"] == "2026-03-01"


def test_show_by_path_from_inside_the_handbook(handbook: Path) -> None:
    result = run_cli(
        "show", "rotation.md", "--root", str(handbook), "-f", "json", cwd=handbook / "team"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "team/rotation"


def test_show_text_summary(handbook: Path) -> None:
    result = run_cli("show", "team/rotation", "--root", str(handbook))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Secrets rotation for CI runners" in out
    assert "#work" in out
    assert "Rotate the registration token" in out
    assert "requirements-r1" in out


def test_show_unknown_plan_is_a_clear_error(handbook: Path) -> None:
    result = run_cli("show", "nope", "--root", str(handbook))
    assert result.returncode == 2  # a usage error, as `check nope.md` says
    assert "Error: no plan 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_unreadable_file_names_file_and_line(handbook: Path) -> None:
    result = run_cli("show", "broken", "--root", str(handbook))
    assert result.returncode == 1
    assert "broken.md:1: binary file" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_reports_parse_problems(handbook: Path) -> None:
    (handbook / "bad.md").write_text("---\ntitle: [oops\n---\n", encoding="utf-8")
    result = run_cli("show", "bad", "--root", str(handbook), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["SP106"]


def test_show_refuses_the_catalog_page(handbook: Path) -> None:
    result = run_cli("show", "index.md", "--root", str(handbook))
    assert result.returncode == 1
    assert "is not a plan" in result.stderr


def test_show_a_file_outside_the_handbook_is_a_usage_error(
    handbook: Path, tmp_path_factory
) -> None:
    other = tmp_path_factory.mktemp("other") / "stray.md"
    other.write_text("# Stray\n", encoding="utf-8")
    result = run_cli("show", str(other), "--root", str(handbook))
    assert result.returncode == 2
    assert "not inside the handbook" in result.stderr
    assert "Traceback" not in result.stderr


SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def assert_snapshot(name: str, actual: str) -> None:
    snapshot.assert_snapshot(SNAPSHOTS, name, actual)


@pytest.mark.parametrize("plan", ["rotation", "kramdown"])
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_show_snapshot(handbook: Path, plan: str, output_format: str) -> None:
    result = run_cli(
        "show", f"team/{plan}", "--root", str(handbook), "--format", output_format, cwd=handbook
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert str(handbook) not in result.stdout  # nothing machine-specific in the output
    suffix = "json" if output_format == "json" else "txt"
    assert_snapshot(f"show-{plan}.{suffix}", result.stdout)
