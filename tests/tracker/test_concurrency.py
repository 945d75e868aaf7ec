"""Two processes writing at once get distinct iids and one copy of each group and project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from secplan.tracker import open_tracker

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from secplan.tracker import open_tracker

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open_tracker(Path("."), url, author=name) as t:
        for n in range(count):
            t.create_issue("race/new/project", f"{name} {n}")
            if n % 5 == 0:
                t.create_epic("race/new", f"{name} epic {n}")
    print("done")
    """
)


def test_concurrent_writers_never_share_an_iid(database_url: str, tmp_path: Path) -> None:
    count = 25
    # Both writers start on an empty database: the schema, the groups and the project are all
    # created while the other process is racing to create them too.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, name, str(count)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    with open_tracker(tmp_path, database_url) as t:
        issues = t.list_issues("race/new/project", state="all")
        epics = t.list_epics("race/new")
        events = t.state_events()
    assert sorted(i.iid for i in issues) == list(range(1, 2 * count + 1))
    assert sorted(e.iid for e in epics) == list(range(1, 2 * (count // 5) + 1))
    assert {i.title for i in issues} == {
        f"{w} {n}" for w in ("left", "right") for n in range(count)
    }
    assert len(events) == 2 * count


KILLED_MID_TRANSACTION = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from secplan.tracker import open_tracker

    with open_tracker(Path("."), sys.argv[1]) as t:
        with t.transaction():
            for n in range(20):
                t.create_issue("sec/app/plans", f"half-done {n}")
            print("inside", flush=True)
            time.sleep(120)  # killed here, holding the transaction open
    """
)


def test_a_writer_killed_mid_transaction_leaves_nothing_behind(
    database_url: str, tmp_path: Path
) -> None:
    import signal

    with open_tracker(tmp_path, database_url) as t:
        t.create_issue("sec/app/plans", "Before")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_TRANSACTION, database_url],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inside", proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # The killed process's write lock / row locks are gone with it: the next writer proceeds at
    # once and sees none of the uncommitted issues.
    with open_tracker(tmp_path, database_url) as t:
        after = t.create_issue("sec/app/plans", "After")
        titles = [i.title for i in t.list_issues(state="all")]
    assert titles == ["Before", "After"]
    assert after.iid == 2
