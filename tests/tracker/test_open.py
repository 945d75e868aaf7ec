"""Which database open_tracker picks."""

from __future__ import annotations

from pathlib import Path

from secplan.tracker import open_tracker


def test_open_tracker_uses_the_configured_database(postgres_url: str, tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with open_tracker(tmp_path) as t:
        assert not t.store.is_sqlite
        t.create_issue("sec/a/p", "Lives in PostgreSQL")
    assert not (tmp_path / ".secplan").exists()
    with open_tracker(tmp_path, f"sqlite:///{tmp_path / 'other.db'}") as t:
        assert t.store.is_sqlite and t.list_issues() == []  # an explicit URL wins
