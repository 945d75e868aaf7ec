"""Apply and the read-only commands when the world misbehaves: Ctrl+C, a full disk, a damaged
schema, a read-only database. Always an ``Error:`` line (or the interrupt message), never a
traceback, and the tracker consistent afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli

SMALL = """\
---
title: Small plan
status: ready
---

# Small plan

## Work

- [ ] First small task
- [ ] Second small task
"""


def big_plan(items: int) -> str:
    body = "\n".join(f"- [ ] Big task number {i}" for i in range(items))
    return f"---\ntitle: Big plan\nstatus: ready\n---\n\n# Big plan\n\n## Work\n\n{body}\n"


def handbook(root: Path, items: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "secplan.toml").write_text('tracker = "sec/plans"\ngroup = "sec"\n')
    (root / "a-small.md").write_text(SMALL)
    (root / "z-big.md").write_text(big_plan(items))
    return root


def issue_titles(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [t for (t,) in conn.execute("SELECT title FROM issues ORDER BY title")]


def assert_consistent(db: Path, items: int) -> None:
    """Every item has exactly one issue: nothing lost, nothing duplicated."""
    titles = issue_titles(db)
    assert len(titles) == len(set(titles)) == items + 2


def test_ctrl_c_during_apply_says_nothing_is_lost_and_writes_back_finished_plans(tmp_path: Path):
    items = 400
    root = handbook(tmp_path / "hb", items)
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    env.update(PYTHONUNBUFFERED="1", NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "secplan", "apply", "--write-back", "--root", str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    # Interrupt once the big plan is being written: the small one is done by then.
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if sum("big-task-number" in s for s in seen) >= 5:
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; nothing is lost, run apply again" in err
    assert "Traceback" not in err
    small = (root / "a-small.md").read_text()
    assert small.count("sec/plans#") == 2  # the finished plan got its refs
    assert "wrote 2 ref(s) into a-small.md" in "".join(seen) + out
    assert (root / "z-big.md").read_text() == big_plan(items)  # the unfinished one is untouched
    again = run_cli("apply", "--root", str(root))
    assert again.returncode == 0, again.stderr
    assert_consistent(root / ".secplan" / "secplan.db", items)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if done.returncode != 0:
        pytest.skip("needs a tmpfs mount (root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to mount a tmpfs"
)


@needs_root
def test_full_disk_mid_apply_is_an_error_and_the_data_stays_consistent(tmp_path: Path):
    items = 300
    root = handbook(tmp_path / "hb", items)
    with tmpfs(tmp_path / "disk", "16m") as disk:
        url = f"sqlite:///{disk / 'secplan.db'}"
        first = run_cli("apply", "a-small.md", "--root", str(root), "--database-url", url)
        assert first.returncode == 0, first.stderr
        # Leave a little room: the big plan fills the disk part of the way through.
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * max(0, free - 96 * 1024))
        full = run_cli("apply", "--root", str(root), "--database-url", url)
        assert full.returncode == 1
        assert "Error: the disk is full" in full.stderr, full.stderr
        assert "Hint:" in full.stderr and "Traceback" not in full.stderr
        assert "big-task-number-0" in full.stdout  # it was mid-apply, not refused up front
        (disk / "filler").unlink()
        again = run_cli("apply", "--root", str(root), "--database-url", url)
        assert again.returncode == 0, again.stderr
        assert_consistent(disk / "secplan.db", items)


def test_a_dropped_sync_state_table_is_an_error_with_a_hint(tmp_path: Path):
    root = handbook(tmp_path / "hb", 3)
    assert run_cli("apply", "--root", str(root)).returncode == 0
    with contextlib.closing(sqlite3.connect(root / ".secplan" / "secplan.db")) as conn:
        conn.execute("DROP TABLE sync_state")
        conn.commit()
    for command in (("plan",), ("apply",), ("coverage",), ("status",)):
        result = run_cli(*command, "--root", str(root))
        assert result.returncode == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert "Error: the database has no table 'sync_state'" in result.stderr, result.stderr
        assert "Hint:" in result.stderr


READ_ONLY_COMMANDS = [
    ("plan",),
    ("coverage",),
    ("status",),
    ("issue", "list"),
    ("issue", "show", "sec/plans#1"),
    ("epic", "list"),
    ("milestone", "list"),
]


@needs_root
def test_read_only_commands_work_on_a_read_only_mount(tmp_path: Path):
    root = handbook(tmp_path / "hb", 3)
    with tmpfs(tmp_path / "ro", "8m") as mount:
        url = f"sqlite:///{mount / 'db' / 'secplan.db'}"
        assert run_cli("apply", "--root", str(root), "--database-url", url).returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        for command in READ_ONLY_COMMANDS:
            result = run_cli(*command, "--root", str(root), "--database-url", url)
            assert result.returncode == 0, (command, result.stderr)
            assert "Error" not in result.stderr
        listed = run_cli("issue", "list", "--root", str(root), "--database-url", url)
        assert "First small task" in listed.stdout
        write = run_cli(
            "issue", "create", "sec/plans", "New", "--root", str(root), "--database-url", url
        )
        assert write.returncode != 0 and "Error:" in write.stderr, write.stderr
        assert "Traceback" not in write.stderr


@pytest.mark.postgres
def test_a_dropped_sync_state_table_on_postgresql_is_an_error_with_a_hint(
    tmp_path: Path, postgres_url: str
):
    import psycopg

    root = handbook(tmp_path / "hb", 3)
    url = ["--root", str(root), "--database-url", postgres_url]
    assert run_cli("apply", *url).returncode == 0
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP TABLE sync_state")
    result = run_cli("plan", *url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Error: the database has no table 'sync_state'" in result.stderr, result.stderr
