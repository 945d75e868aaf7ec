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
from secplan.store import Store, open_store  # noqa: E402
from secplan.store.remote_ids import StoreIdCache  # noqa: E402
from secplan.sync.apply import apply_plans  # noqa: E402
from secplan.sync.state import StoreState  # noqa: E402
from secplan.tracker.gitlab import GitLabTracker  # noqa: E402
from tests.gitlab_fake import FakeGitLab, start_fake  # noqa: E402


def tracker_for(fake: FakeGitLab, store: Store) -> GitLabTracker:
    """A new run's tracker, its remote ids cached in secplan's store as ``open_backend`` does."""
    tracker = GitLabTracker(
        fake.url, fake.token, default_group="bench", default_project="bench/planning", pace=False
    )
    tracker.ids = StoreIdCache(store, tracker.identity)
    return tracker


def run(fake: FakeGitLab, root: Path, store: Store) -> tuple[float, Any, GitLabTracker]:
    config = load_config(root)
    handbook = load_handbook(root, config)
    tracker = tracker_for(fake, store)
    state = StoreState(store, tracker.identity)
    start = time.perf_counter()
    result = apply_plans(tracker, state, handbook.plans, config, all_plans=True, create_epic=True)
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


def requests_since(fake: FakeGitLab, mark: int) -> str:
    """The HTTP requests the stand-in received after the ``mark``-th, by method."""
    with fake.lock:
        recent = fake.requests[mark:]
    by: dict[str, int] = {}
    for r in recent:
        # one name per endpoint: numeric ids and the paths of groups and projects left out
        parts = [p for p in r.path.split("/") if not p.isdigit()]
        endpoint = parts[0] + ("/" + parts[-1] if len(parts) > 1 else "")
        key = f"{r.method} {endpoint}"
        by[key] = by.get(key, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(by.items(), key=lambda kv: -kv[1]))


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
        store = open_store(scratch, f"sqlite:///{scratch / 'secplan.db'}")
        print(f"{args.plans} plans x {args.items} items:")
        elapsed, result, tracker = run(fake, root, store)
        line("first apply", elapsed, tracker, result)
        mark = len(fake.requests)
        elapsed, result, tracker = run(fake, root, store)
        line("no-op re-apply (new run)", elapsed, tracker, result)
        print(f"    requests: {requests_since(fake, mark)}")
        assert tracker.stats.writes == 0, "the re-apply wrote"
        assert tracker.stats.reads <= args.plans + 10, "more than one read per plan + 10"

        plan = root / "plan-000.md"
        text = plan.read_text(encoding="utf-8")
        edited = text.replace("baseline to service 0,", "baseline to service 0 now,", 1)
        assert edited != text, "the benchmark handbook changed: no item to edit"
        plan.write_text(edited, encoding="utf-8")
        mark = len(fake.requests)
        elapsed, result, tracker = run(fake, root, store)
        line("one edited item", elapsed, tracker, result)
        print(f"    requests: {requests_since(fake, mark)}")
        assert tracker.stats.writes == 1, f"one edit made {tracker.stats.writes} writes"
        store.close()
        print(
            f"  objects in GitLab: {len(fake.state.issues)} issues, {len(fake.state.epics)} "
            f"epics, {len(fake.state.milestones)} milestones, {fake.count()} requests in all"
        )
    finally:
        fake.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
