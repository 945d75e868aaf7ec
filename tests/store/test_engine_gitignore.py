"""The default database folder keeps itself out of version control."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secplan.store import open_store


def test_default_database_folder_is_git_ignored(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    open_store(tmp_path).close()
    assert (tmp_path / ".secplan" / "secplan.db").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""


def test_an_existing_gitignore_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".secplan").mkdir()
    (tmp_path / ".secplan" / ".gitignore").write_text("cache/\n", encoding="utf-8")
    open_store(tmp_path).close()
    assert (tmp_path / ".secplan" / ".gitignore").read_text(encoding="utf-8") == "cache/\n"
