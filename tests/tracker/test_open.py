"""Which backend and which database open_backend / open_tracker pick."""

from __future__ import annotations

from pathlib import Path

import pytest

from secplan.config import load_config
from secplan.errors import ConfigError, NoDatabaseError, UsageError
from secplan.tracker import backend_name, open_backend, open_tracker


def test_open_tracker_uses_the_configured_database(postgres_url: str, tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with open_backend(tmp_path) as b:
        assert not b.store.is_sqlite
        b.tracker.create_issue("sec/a/p", "Lives in PostgreSQL")
    assert not (tmp_path / ".secplan").exists()
    with open_backend(tmp_path, database_url=f"sqlite:///{tmp_path / 'other.db'}") as b:
        assert b.store.is_sqlite and b.tracker.list_issues() == []  # an explicit URL wins


def test_the_backend_comes_from_the_config_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECPLAN_BACKEND", raising=False)
    assert backend_name(load_config(tmp_path)) == "local"
    (tmp_path / "secplan.toml").write_text('backend = "gitlab"\n', encoding="utf-8")
    assert backend_name(load_config(tmp_path)) == "gitlab"
    monkeypatch.setenv("SECPLAN_BACKEND", "local")
    assert backend_name(load_config(tmp_path)) == "local"
    monkeypatch.setenv("SECPLAN_BACKEND", "jira")
    with pytest.raises(UsageError, match="unknown tracker backend 'jira'"):
        backend_name(load_config(tmp_path))


def test_a_token_in_the_config_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text(
        'backend = "nope"\ntoken = "glpat-secret-value"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    text = str(err.value)
    assert "never reads a token from its configuration file" in text
    assert "'backend' must be one of local, gitlab" in text  # every problem at once
    assert "glpat-secret-value" not in text


def test_read_only_opening_creates_nothing(tmp_path: Path) -> None:
    with open_backend(tmp_path, read_only=True) as b:
        assert isinstance(b.missing, NoDatabaseError)
        assert b.tracker.list_issues(state="all") == []
    assert not (tmp_path / ".secplan").exists()
    open_tracker(tmp_path).close()  # a writing command creates it
    with open_backend(tmp_path, read_only=True) as b:
        assert b.missing is None
