"""Commands run without --root find the handbook from inside one of its folders."""

from __future__ import annotations

import json
from pathlib import Path

from secplan.config import find_config_root
from tests.conftest import run_cli

PLAN = """---
title: Hardware keys for admins
status: draft
---
# Hardware keys for admins

- [ ] Order keys
"""


def _handbook(root: Path, configured: bool) -> Path:
    (root / "keys").mkdir(parents=True)
    (root / "index.md").write_text("# Plans\n", encoding="utf-8")
    (root / "keys" / "index.md").write_text(PLAN, encoding="utf-8")
    (root / "other.md").write_text(PLAN.replace("Hardware keys", "Other"), encoding="utf-8")
    if configured:
        (root / "secplan.toml").write_text('tracker = "sec/plans"\n', encoding="utf-8")
    return root / "keys"


def test_check_from_a_plan_folder_checks_the_whole_configured_handbook(tmp_path: Path) -> None:
    inner = _handbook(tmp_path / "hb", configured=True)
    result = run_cli("check", "--format", "json", "--exit-zero", cwd=inner)
    assert result.returncode == 0, result.stderr
    plans = {f["plan"] for f in json.loads(result.stdout)}
    assert plans == {"keys", "other"}


def test_show_by_id_from_a_plan_folder(tmp_path: Path) -> None:
    inner = _handbook(tmp_path / "hb", configured=True)
    result = run_cli("show", "other", "--format", "json", cwd=inner)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "other"


def test_without_configuration_the_current_folder_is_the_root(tmp_path: Path) -> None:
    inner = _handbook(tmp_path / "hb", configured=False)
    result = run_cli("show", "other", cwd=inner)
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_pyproject_table_counts_and_broken_toml_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.secplan]\ngroup = 'sec'\n", encoding="utf-8")
    (tmp_path / "a" / "pyproject.toml").write_text("not = [toml", encoding="utf-8")
    assert find_config_root(tmp_path / "a" / "b") == tmp_path.resolve()
    (tmp_path / "pyproject.toml").write_text("[tool.other]\n", encoding="utf-8")
    assert find_config_root(tmp_path / "a" / "b") is None
