"""Database URLs, connection errors and the named locks ``apply`` relies on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from secplan.errors import LockedError, TrackerError, UsageError
from secplan.store import open_store
from secplan.store.engine import normalise_url
from secplan.store.models import Lock, utcnow


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_unsupported_and_malformed_urls_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unsupported database 'mysql'"):
        normalise_url("mysql://root:hunter2@db/x")
    with pytest.raises(UsageError, match="not a database URL"):
        normalise_url("just some words")


def test_unreachable_server_is_reported_without_the_password(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(TrackerError, match="cannot open the database") as err:
        open_store(tmp_path, f"postgresql://secplan:hunter2@127.0.0.1:{port}/nope")
    assert "hunter2" not in str(err.value)
    assert err.value.hint and "SECPLAN_DATABASE_URL" in err.value.hint


def test_a_lock_is_exclusive_and_released(database_url: str, tmp_path: Path) -> None:
    with open_store(tmp_path, database_url) as store:
        with store.lock("apply:plan-a", holder="elsewhere:1"):
            with pytest.raises(LockedError, match="apply:plan-a is locked by elsewhere:1"):
                store.acquire_lock("apply:plan-a", "elsewhere:2")
            with store.lock("apply:plan-b", holder="elsewhere:2"):
                pass  # other names are independent
        with store.lock("apply:plan-a", holder="elsewhere:2") as holder:
            assert holder == "elsewhere:2"
        with store.read_session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(Lock)) == 0


def test_a_lock_left_by_a_dead_process_is_taken_over(database_url: str, tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_holder = f"{socket.gethostname()}:{dead.stdout.strip()}"
    live_holder = f"{socket.gethostname()}:{os.getppid()}"
    with open_store(tmp_path, database_url) as store:
        store.acquire_lock("apply:x", dead_holder)  # as if that process was killed holding it
        with store.lock("apply:x") as me:
            assert me.endswith(f":{os.getpid()}")
        store.acquire_lock("apply:y", live_holder)  # a live process keeps its lock...
        with pytest.raises(LockedError):
            store.acquire_lock("apply:y", "someone:else")
        with store.session() as s:  # ...unless it is older than stale_after
            row = s.scalar(sa.select(Lock).where(Lock.name == "apply:y"))
            assert row is not None
            row.acquired_at = utcnow() - timedelta(hours=2)
        with store.lock("apply:y", stale_after=timedelta(hours=1)):
            pass


def test_read_sessions_do_not_block_a_writer(tmp_path: Path) -> None:
    with open_store(tmp_path) as first, open_store(tmp_path) as second:
        with first.read_session() as reader:
            reader.execute(sa.select(Lock)).all()
            with second.session() as writer:  # would wait for busy_timeout if readers locked
                writer.add(Lock(name="n", holder="h"))
        with first.read_session() as reader:
            assert reader.scalar(sa.select(Lock.holder)) == "h"


def test_a_file_that_is_not_a_database_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / ".secplan" / "secplan.db"
    path.parent.mkdir()
    junk = b"these are someone's notes, not a database\n" * 50
    path.write_bytes(junk)
    with pytest.raises(TrackerError, match="file is not a database"):
        open_store(tmp_path)
    assert path.read_bytes() == junk
