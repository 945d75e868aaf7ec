"""Real ``secplan apply`` processes: killed with SIGKILL mid-way, and two at once, on the
embedded tracker (SQLite file, PostgreSQL) and on GitLab (the stand-in, a real HTTP server the
apply processes talk to)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from secplan.store.engine import create_engine_for
from secplan.sync.desired import parse_marker
from secplan.tracker import open_tracker
from tests.conftest import run_cli
from tests.gitlab_fake import FakeGitLab
from tests.sync.conftest import start_sync_fake

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
# bulk plan takes well under a second otherwise, too quick to be killed or raced reliably. On
# GitLab the backend's own pacer does it, with a shorter interval than GitLab.com's (none at
# all for the reruns, which GitLab.com's pacing would make take minutes).
PACED_CLI = """
import os, sys, time
from secplan.tracker.local import LocalTracker
from secplan.tracker.gitlab.stats import PACE_INTERVALS
pace = float(os.environ["TEST_PACE"])
create = LocalTracker.create_issue
def paced(self, *args, **kwargs):
    time.sleep(pace)
    return create(self, *args, **kwargs)
LocalTracker.create_issue = paced
PACE_INTERVALS.update(create=pace, note=0.0)
from secplan.cli.main import main
sys.argv[0] = "secplan"
main()
"""


class Target:
    """Where the applies write: the embedded tracker in ``database_url``, or the GitLab
    stand-in (``fake``) with secplan's store in the handbook."""

    def __init__(self, root: Path, database_url: str | None, fake: FakeGitLab | None) -> None:
        self.root = root
        self.database_url = database_url
        self.fake = fake
        self.engine = create_engine_for(database_url) if database_url else None
        if fake is not None:
            config = root / "secplan.toml"
            config.write_text(
                f'backend = "gitlab"\ngitlab_url = "{fake.url}"\n'
                + config.read_text(encoding="utf-8"),
                encoding="utf-8",
            )
        else:
            assert database_url is not None
            # Create the schema first so the poller has tables to count.
            open_tracker(root, database_url).close()

    def args(self) -> list[str]:
        url = ["--database-url", self.database_url] if self.database_url else []
        return ["apply", "--root", str(self.root), *url]

    def env(self) -> dict[str, str]:
        return {"GITLAB_TOKEN": self.fake.token} if self.fake is not None else {}

    def issues(self) -> int:
        """Issues in the tracker right now."""
        if self.fake is not None:
            with self.fake.lock:
                return len(self.fake.state.issues)
        assert self.engine is not None
        try:
            with self.engine.connect() as conn:
                return int(conn.exec_driver_sql("SELECT count(*) FROM issues").scalar() or 0)
        except sa.exc.OperationalError:
            return 0  # tables not created yet, or the database is busy

    def descriptions(self) -> list[str]:
        """The description of every issue in the tracker, secplan's or not."""
        if self.fake is not None:
            with self.fake.lock:
                return [i.description for i in self.fake.state.issues]
        assert self.database_url is not None
        with open_tracker(self.root, self.database_url) as tracker:
            return [i.description for i in tracker.list_issues(state="all")]

    def start_apply(self, pace: float = 0.004) -> subprocess.Popen[str]:
        """``secplan apply`` started, each issue creation ``pace`` seconds apart."""
        env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
        env.update(NO_COLOR="1", TEST_PACE=str(pace), **self.env())
        return subprocess.Popen(
            [sys.executable, "-c", PACED_CLI, *self.args()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_apply(self) -> subprocess.CompletedProcess[str]:
        """``secplan apply`` run to its end, unpaced."""
        if self.fake is None:
            return run_cli(*self.args())
        proc = self.start_apply(pace=0.0)
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def wait_for(self, at_least: int, proc: subprocess.Popen[str]) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            n = self.issues()
            if n >= at_least:
                return n
            if proc.poll() is not None:
                raise AssertionError(f"apply ended early: {proc.communicate()}")
            time.sleep(0.01)
        raise AssertionError("apply made no progress")

    def assert_exact(self) -> None:
        """Every item of every plan has exactly one issue, and there is nothing else."""
        keys = Counter(parse_marker(d) for d in self.descriptions())
        dupes = {k: n for k, n in keys.items() if n > 1}
        assert dupes == {}
        bulk = {key[1] for key in keys if key is not None and key[0] == "bulk"}
        assert bulk == {f"harden-service-number-{i}" for i in range(BULK_ITEMS)}
        assert sum(keys.values()) == BULK_ITEMS + 6

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


@pytest.fixture(params=["local-sqlite", "local-postgres", "gitlab"])
def target(request: pytest.FixtureRequest, handbook_dir: Path) -> Iterator[Target]:
    """The bulk plan in the handbook, and the tracker the applies go to."""
    write_bulk_plan(handbook_dir)
    fake = start_sync_fake() if request.param == "gitlab" else None
    url = None
    if request.param == "local-sqlite":
        url = f"sqlite:///{handbook_dir.parent / 'secplan.db'}"
    elif request.param == "local-postgres":
        url = str(request.getfixturevalue("postgres_url"))
    t = Target(handbook_dir, url, fake)
    try:
        yield t
    finally:
        t.close()
        if fake is not None:
            fake.stop()


def test_kill_9_in_the_middle_then_rerun(target: Target):
    proc = target.start_apply()
    made = target.wait_for(25, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    at_kill = target.issues()
    assert made <= at_kill < BULK_ITEMS + 6, "apply finished before it could be killed"

    rerun = target.run_apply()
    assert rerun.returncode == 0, rerun.stderr
    target.assert_exact()
    created = rerun.stdout.count("+ created issue")
    assert created == BULK_ITEMS + 6 - at_kill

    again = target.run_apply()
    assert again.returncode == 0, again.stderr
    assert "+ created" not in again.stdout and "~ updated" not in again.stdout
    target.assert_exact()


def test_second_concurrent_apply_gets_the_lock_error(target: Target):
    first = target.start_apply()
    target.wait_for(10, first)
    second = target.run_apply()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 1
    assert "Error: another secplan apply is running" in second.stderr
    assert "Hint:" in second.stderr
    assert "Traceback" not in second.stderr
    assert "+ created" not in second.stdout
    target.assert_exact()
    assert out.count("+ created issue") == BULK_ITEMS + 6


def test_two_applies_started_together_never_duplicate(target: Target):
    procs = [target.start_apply() for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    # Either one was refused the lock, or the second started after the first had finished.
    assert codes in ([0, 1], [0, 0])
    for code, _out, err in results:
        if code == 1:
            assert "another secplan apply is running" in err
    target.assert_exact()
