"""Open review threads as ``secplan check`` reads them: stdlib sqlite3, read-only, or a server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secplan.lint.threads import (
    DEFAULT_DATABASE,
    is_sqlite_url,
    load_open_threads,
    read_sqlite_counts,
    sqlite_path,
)
from secplan.store import open_store
from secplan.store.engine import default_database_path
from secplan.store.reviews import create_thread, open_thread_counts, resolve_thread
from tests.conftest import EXAMPLE_HANDBOOK


def _threads(url: str) -> dict[str, int]:
    """Three threads on alpha (one resolved), one on beta; the counts the ORM reads back."""
    store = open_store(Path("."), url)
    try:
        with store.session() as session:
            ids = [create_thread(session, "alpha", "s", "S", "ann", "x").id for _ in range(3)]
            create_thread(session, "beta", "s", "S", "ann", "y")
            resolve_thread(session, ids[0], "bob")
        with store.read_session() as session:
            return open_thread_counts(session)
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_counts_equal_the_stores_own_query(database_url: str) -> None:
    expected = _threads(database_url)
    assert expected == {"alpha": 2, "beta": 1}
    assert load_open_threads(Path("/nonexistent"), database_url) == expected


def test_the_default_database_is_read_without_writing_it(tmp_path: Path) -> None:
    assert tmp_path / DEFAULT_DATABASE == default_database_path(tmp_path)
    db = tmp_path / DEFAULT_DATABASE
    expected = _threads(f"sqlite:///{db}")
    before = (db.stat().st_size, db.stat().st_mtime_ns)
    assert load_open_threads(tmp_path, None) == expected
    # A WAL reader may leave the -wal/-shm companions (SQLite's own), never a change to the file.
    assert (db.stat().st_size, db.stat().st_mtime_ns) == before


def test_no_database_and_foreign_files_read_as_no_threads(tmp_path: Path) -> None:
    assert load_open_threads(tmp_path, None) == {}
    assert not (tmp_path / ".secplan").exists()  # looking never creates anything
    assert load_open_threads(tmp_path, f"sqlite:///{tmp_path / 'missing.db'}") == {}
    assert not (tmp_path / "missing.db").exists()
    assert load_open_threads(tmp_path, "sqlite://") == {}
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert read_sqlite_counts(tmp_path / "junk.db") == {}
    empty = tmp_path / "empty.db"
    _threads(f"sqlite:///{empty}")
    import sqlite3

    with sqlite3.connect(empty) as db:
        db.execute("DROP TABLE review_comments")
        db.execute("DROP TABLE review_threads")
    assert read_sqlite_counts(empty) == {}


def test_sqlite_urls_are_read_as_sqlalchemy_reads_them() -> None:
    assert is_sqlite_url("sqlite:///a.db") and is_sqlite_url("SQLite+pysqlite:///a.db")
    assert not is_sqlite_url("postgresql+psycopg://u@h/db") and not is_sqlite_url("a.db")
    assert sqlite_path("sqlite:///rel/a.db") == Path("rel/a.db")
    assert sqlite_path("sqlite:////abs/a.db?mode=ro") == Path("/abs/a.db")
    assert sqlite_path("sqlite:///a%20b.db") == Path("a b.db")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("sqlite://") is None


def test_a_check_with_a_database_imports_no_sqlalchemy(tmp_path: Path) -> None:
    hb = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, hb, ignore=shutil.ignore_patterns(".secplan"))
    _threads(f"sqlite:///{hb / DEFAULT_DATABASE}")
    script = (
        "import sys; from pathlib import Path\n"
        "from secplan.lint.runner import CheckOptions, resolve_targets, run_check\n"
        "result = run_check(resolve_targets([], Path(sys.argv[1]), Path.cwd()), CheckOptions())\n"
        "print(result.plans_checked, 'sqlalchemy' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(hb)], capture_output=True, text=True, check=True
    )
    plans, sqlalchemy, pydantic = run.stdout.split()
    assert int(plans) > 0 and sqlalchemy == "False" and pydantic == "False"
