"""Real ``secplan apply`` processes: killed with SIGKILL mid-way, and two at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from secplan.store.engine import create_engine_for
from secplan.sync.desired import parse_marker
from secplan.tracker import open_tracker
from tests.conftest import run_cli

BULK_ITEMS = 400


def write_bulk_plan(root: Path, n: int = BULK_ITEMS) -> None:
    lines = [
        "---",
        "title: Bulk hardening",
        "status: ready",
        "milestones:",
        "  - title: Bulk",
        "    due: 2027-06-30",
        "---",
        "",
        "# Bulk hardening",
        "",
        "## Work",
        "",
    ]
    for i in range(n):
        lines.append(f"- [ ] Harden service number {i} %Bulk")
        lines.append(f"  Apply the baseline to service {i} and record the result in the register.")
    (root / "bulk.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# The real CLI, with every issue creation paced at a few milliseconds: a whole apply of the
# bulk plan takes well under a second otherwise, too quick to be killed or raced reliably.
PACED_CLI = """
import sys, time
from secplan.tracker.local import LocalTracker
create = LocalTracker.create_issue
def paced(self, *args, **kwargs):
    time.sleep(0.004)
    return create(self, *args, **kwargs)
LocalTracker.create_issue = paced
from secplan.cli.main import main
sys.argv[0] = "secplan"
main()
"""


def start_apply(root: Path, database_url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    env["NO_COLOR"] = "1"
    args = ["apply", "--root", str(root), "--database-url", database_url]
    return subprocess.Popen(
        [sys.executable, "-c", PACED_CLI, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(engine: sa.Engine, sql: str) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(sql).scalar() or 0)
    except sa.exc.OperationalError:
        return 0  # tables not created yet, or the database is busy


def wait_for(engine: sa.Engine, sql: str, at_least: int, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = count(engine, sql)
        if n >= at_least:
            return n
        if proc.poll() is not None:
            raise AssertionError(f"apply ended early: {proc.communicate()}")
        time.sleep(0.01)
    raise AssertionError("apply made no progress")


def assert_exact(root: Path, database_url: str) -> None:
    """Every item of every plan has exactly one issue, and there is nothing else."""
    with open_tracker(root, database_url) as tracker:
        issues = tracker.list_issues(state="all")
    keys = Counter(parse_marker(i.description) for i in issues)
    dupes = {k: n for k, n in keys.items() if n > 1}
    assert dupes == {}
    bulk = {item for (plan, item) in keys if plan == "bulk"}
    assert bulk == {f"harden-service-number-{i}" for i in range(BULK_ITEMS)}
    assert len(issues) == BULK_ITEMS + 6


def test_kill_9_in_the_middle_then_rerun(handbook_dir: Path, database_url: str):
    write_bulk_plan(handbook_dir)
    # Create the schema first so the poller has tables to count.
    open_tracker(handbook_dir, database_url).close()
    engine = create_engine_for(database_url)
    try:
        proc = start_apply(handbook_dir, database_url)
        made = wait_for(engine, "SELECT count(*) FROM issues", 25, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        at_kill = count(engine, "SELECT count(*) FROM issues")
        assert made <= at_kill < BULK_ITEMS + 6, "apply finished before it could be killed"
    finally:
        engine.dispose()

    rerun = run_cli("apply", "--root", str(handbook_dir), "--database-url", database_url)
    assert rerun.returncode == 0, rerun.stderr
    assert_exact(handbook_dir, database_url)
    created = rerun.stdout.count("+ created issue")
    assert created == BULK_ITEMS + 6 - at_kill

    again = run_cli("apply", "--root", str(handbook_dir), "--database-url", database_url)
    assert again.returncode == 0, again.stderr
    assert "+ created" not in again.stdout and "~ updated" not in again.stdout
    assert_exact(handbook_dir, database_url)


def test_second_concurrent_apply_gets_the_lock_error(handbook_dir: Path, database_url: str):
    write_bulk_plan(handbook_dir)
    open_tracker(handbook_dir, database_url).close()
    engine = create_engine_for(database_url)
    try:
        first = start_apply(handbook_dir, database_url)
        wait_for(engine, "SELECT count(*) FROM issues", 10, first)
        second = run_cli("apply", "--root", str(handbook_dir), "--database-url", database_url)
        out, err = first.communicate(timeout=120)
    finally:
        engine.dispose()
    assert first.returncode == 0, err
    assert second.returncode == 1
    assert "Error: another secplan apply is running" in second.stderr
    assert "Hint:" in second.stderr
    assert "Traceback" not in second.stderr
    assert "+ created" not in second.stdout
    assert_exact(handbook_dir, database_url)
    assert out.count("+ created issue") == BULK_ITEMS + 6


def test_two_applies_started_together_never_duplicate(handbook_dir: Path, database_url: str):
    write_bulk_plan(handbook_dir)
    open_tracker(handbook_dir, database_url).close()
    procs = [start_apply(handbook_dir, database_url) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    # Either one was refused the lock, or the second started after the first had finished.
    assert codes in ([0, 1], [0, 0])
    for code, _out, err in results:
        if code == 1:
            assert "another secplan apply is running" in err
    assert_exact(handbook_dir, database_url)
