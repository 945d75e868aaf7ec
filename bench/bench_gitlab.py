"""API calls and wall time of ``apply`` on the GitLab backend, against the GitLab stand-in
(tests/gitlab_fake: real HTTP on 127.0.0.1, no pacing).

Scenario: 100 plans x 50 items (5,000 issues, 100 epics as work items, 5 shared milestones):

- the first apply: writes should be about the objects created (plus the labels and one
  hierarchy update per issue), reads about one listing per plan;
- a no-op re-apply with a fresh tracker (a new run): 0 writes, reads <= 1 per plan + a constant;
- one edited item: 1 write.

    python bench/bench_gitlab.py [--plans 100] [--items 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "src"))
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

from bench_sync import write_handbook  # noqa: E402

from secplan.config import load_config  # noqa: E402
from secplan.handbook import load_handbook  # noqa: E402
from secplan.sync.apply import apply_plans  # noqa: E402
from secplan.tracker.gitlab import GitLabTracker  # noqa: E402
from tests.gitlab_fake import FakeGitLab, start_fake  # noqa: E402


def tracker_for(fake: FakeGitLab) -> GitLabTracker:
    return GitLabTracker(
        fake.url, fake.token, default_group="bench", default_project="bench/planning", pace=False
    )


def run(fake: FakeGitLab, root: Path) -> tuple[float, Any, GitLabTracker]:
    config = load_config(root)
    handbook = load_handbook(root, config)
    tracker = tracker_for(fake)
    start = time.perf_counter()
    result = apply_plans(tracker, handbook.plans, config, all_plans=True, create_epic=True)
    elapsed = time.perf_counter() - start
    tracker.close()
    if not result.ok:
        raise SystemExit(f"apply failed: {result.failed[:3]}")
    return elapsed, result, tracker


def line(name: str, elapsed: float, tracker: GitLabTracker, result: Any) -> None:
    s = tracker.stats
    print(
        f"  {name:<28} {elapsed:7.2f} s  {result.writes:5d} changes  "
        f"{s.reads:5d} reads  {s.writes:5d} writes  {s.retries} retries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, GitLab stand-in")
    scratch = Path(tempfile.mkdtemp(prefix="secplan-bench-gitlab-"))
    fake = start_fake("ultimate")
    try:
        fake.state.add_project("bench/planning")
        root = scratch / "handbook"
        write_handbook(root, args.plans, args.items)
        print(f"{args.plans} plans x {args.items} items:")
        elapsed, result, tracker = run(fake, root)
        line("first apply", elapsed, tracker, result)
        elapsed, result, tracker = run(fake, root)
        line("no-op re-apply (new run)", elapsed, tracker, result)
        assert tracker.stats.writes == 0, "the re-apply wrote"

        plan = root / "plan-000.md"
        text = plan.read_text(encoding="utf-8")
        plan.write_text(text.replace("baseline to service 0,", "baseline to service 0 now,"))
        try:
            elapsed, result, tracker = run(fake, root)
            line("one edited item", elapsed, tracker, result)
        except TypeError as exc:
            # sync here still calls update_issue(ref, **changes), not the IssueUpdate protocol
            print(f"  one edited item              skipped: sync uses the old update call ({exc})")
        print(
            f"  objects in GitLab: {len(fake.state.issues)} issues, {len(fake.state.epics)} "
            f"epics, {len(fake.state.milestones)} milestones, {fake.count()} requests in all"
        )
    finally:
        fake.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
