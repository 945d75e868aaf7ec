"""Database URLs, connection errors, read and write transactions."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from secplan.errors import TrackerError, UsageError
from secplan.store import open_store
from secplan.store.engine import normalise_url
from secplan.store.models import Label, Namespace


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


def test_read_sessions_do_not_block_a_writer(tmp_path: Path) -> None:
    with open_store(tmp_path) as first, open_store(tmp_path) as second:
        with first.read_session() as reader:
            reader.execute(sa.select(Label)).all()
            with second.session() as writer:  # would wait for busy_timeout if readers locked
                writer.add(Namespace(full_path="g", kind="group"))
        with first.read_session() as reader:
            assert reader.scalar(sa.select(Namespace.full_path)) == "g"


def test_a_file_that_is_not_a_database_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / ".secplan" / "secplan.db"
    path.parent.mkdir()
    junk = b"these are someone's notes, not a database\n" * 50
    path.write_bytes(junk)
    with pytest.raises(TrackerError, match="file is not a database"):
        open_store(tmp_path)
    assert path.read_bytes() == junk
