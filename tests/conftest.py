"""Shared fixtures: running the CLI for real, a throw-away PostgreSQL, the shared corpora."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.pg import throwaway_postgres

if TYPE_CHECKING:
    from tests.gitlab_fake import FakeGitLab

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLE_HANDBOOK = PROJECT / "examples" / "handbook"
#: The real-world documents; SECPLAN_CORPORA points elsewhere when they are not beside the project.
CORPORA = Path(os.environ.get("SECPLAN_CORPORA") or PROJECT.parent / "shared" / "corpora")


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``secplan ARGS`` in a real subprocess and return the completed process."""
    # A developer's own SECPLAN_DATABASE_URL must not leak into tests; tests pass one explicitly.
    full_env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "secplan", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    """The :func:`run_cli` helper as a fixture."""
    return run_cli


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One throw-away PostgreSQL server for the whole session (URL of its default database)."""
    try:
        with throwaway_postgres() as url:
            yield url
    except RuntimeError as exc:  # pragma: no cover - CI installs PostgreSQL
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty PostgreSQL database on the session server, for one test."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test against a real SQLite file and against a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'secplan.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def corpora() -> Path:
    """``../shared/corpora`` beside the project; the test is skipped when it is absent."""
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present")
    return CORPORA


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    """A GitLab stand-in holding the sync fixture handbook's group, projects and users
    (``tests.sync.conftest.start_sync_fake``), stopped after the test."""
    from tests.sync.conftest import start_sync_fake

    stand_in = start_sync_fake()
    try:
        yield stand_in
    finally:
        stand_in.stop()
