"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from secplan.errors import TrackerError
from secplan.store import default_database_path, open_store
from secplan.store.engine import (
    HEAD_REVISION,
    alembic_config,
    create_engine_for,
    current_revision,
    head_revision,
)
from secplan.store.models import Base


def test_migrations_run_from_empty_to_head(database_url: str, tmp_path: Path) -> None:
    engine = create_engine_for(database_url)
    assert current_revision(engine) is None
    engine.dispose()
    with open_store(tmp_path, database_url) as store:
        assert current_revision(store.engine) == head_revision()
        tables = set(sa.inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_and_migrations_agree(database_url: str, tmp_path: Path) -> None:
    with open_store(tmp_path, database_url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_downgrade_to_empty_and_back(database_url: str, tmp_path: Path) -> None:
    with open_store(tmp_path, database_url) as store:
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(sa.inspect(store.engine).get_table_names()) <= {"alembic_version"}
    with open_store(tmp_path, database_url) as store:
        assert current_revision(store.engine) == head_revision()


def test_opening_twice_keeps_the_data(database_url: str, tmp_path: Path) -> None:
    from secplan.tracker.local import LocalTracker

    with open_store(tmp_path, database_url) as store:
        LocalTracker(store).create_issue("sec/app/plans", "Survives a reopen")
    with open_store(tmp_path, database_url) as store:
        assert [i.title for i in LocalTracker(store).list_issues()] == ["Survives a reopen"]


def test_default_is_a_wal_sqlite_file_under_the_root(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert store.is_sqlite
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    path = default_database_path(tmp_path)
    assert path == tmp_path / ".secplan" / "secplan.db"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_from_a_newer_secplan_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dfeed'")
    with pytest.raises(TrackerError, match="schema revision f00dfeed") as err:
        open_store(tmp_path)
    assert err.value.hint and "newer secplan" in err.value.hint


@pytest.mark.postgres
def test_concurrent_first_opens_migrate_once(postgres_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from secplan.store import open_store; "
        "open_store(Path('.'), sys.argv[1]).close(); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_url],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    engine = create_engine_for(postgres_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_head_constant_matches_the_migration_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_opening_an_up_to_date_database_does_not_load_alembic(
    database_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    open_store(tmp_path, database_url).close()
    code = (
        "import sys; from pathlib import Path; from secplan.store import open_store; "
        "open_store(Path('.'), sys.argv[1]).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, database_url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def _schema(engine: sa.Engine) -> dict[str, list[object]]:
    """Every table's columns (name, type, nullable), indexes, unique and foreign keys, in an
    order that does not depend on how the table was built (a migration appends columns)."""
    inspector = sa.inspect(engine)
    return {
        table: [
            sorted(
                (c["name"], str(c["type"]), bool(c["nullable"]))
                for c in inspector.get_columns(table)
            ),
            sorted(
                (str(i["name"]), tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], str(f.get("options")))
                for f in inspector.get_foreign_keys(table)
            ),
        ]
        for table in inspector.get_table_names()
    }


def test_memory_store_has_the_migrated_schema(tmp_path: Path) -> None:
    # The stand-in store of read-only commands without a database is built from the models,
    # not by Alembic: it must be the schema the migrations give, at the newest revision.
    from secplan.store.engine import open_memory_store
    from secplan.tracker.local import LocalTracker

    with open_store(tmp_path) as migrated, open_memory_store() as memory:
        assert _schema(memory.engine) == _schema(migrated.engine)
        assert current_revision(memory.engine) == head_revision()
        with memory.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert LocalTracker(memory).list_issues() == []
