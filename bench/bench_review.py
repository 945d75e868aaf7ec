"""API calls and wall time of ``secplan review comments`` against the GitLab stand-in
(tests/gitlab_fake: real HTTP on 127.0.0.1), and what the merge request threads add to
``secplan check``'s thread counts (a JSON read on the check path).

Scenario: a merge request changing ``--plans`` plans (each a few sections, one line added per
push) over ``--pushes`` pushes, with ``--threads`` threads per plan spread over the pushes (so
most are outdated and carried to the latest version), a third of them on removed lines.

    python bench/bench_review.py [--plans 50] [--threads 20] [--pushes 3]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "src"))
sys.path.insert(0, str(PROJECT))

from secplan.refs import MergeRequestRef  # noqa: E402
from secplan.review.cache import open_mr_thread_counts  # noqa: E402
from secplan.review.mr import collect_threads, save_review  # noqa: E402
from secplan.tracker.gitlab.client import GitLabClient  # noqa: E402
from secplan.tracker.gitlab.merge_requests import MergeRequestApi  # noqa: E402
from tests.gitlab_fake import start_fake  # noqa: E402


def plan_text(n: int, extra: int) -> str:
    sections = "\n".join(
        f"## Section {s}\n\n" + "".join(f"Line {s}.{k} of plan {n}.\n" for k in range(8))
        for s in range(6)
    )
    added = "".join(f"Added in push {p}.\n" for p in range(extra))
    return f"---\ntitle: Plan {n}\nstatus: review\n---\n\n# Plan {n}\n\n{added}{sections}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=50)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--pushes", type=int, default=3)
    args = parser.parse_args()
    fake = start_fake()
    mrs = fake.merge_requests
    base = {f"plans/p{n}.md": plan_text(n, 0) for n in range(args.plans)}
    base_old = {k: v + "Removed later.\n" for k, v in base.items()}
    heads = [{k: plan_text(n, p + 1) for n, k in enumerate(base)} for p in range(args.pushes)]
    mr = mrs.open("sec/planning", base_old, heads[0])
    for head in heads[1:]:
        mrs.push(mr, head)
    for path in base:
        last_old = base_old[path].count("\n")
        for t in range(args.threads):
            version = mr.versions[t % len(mr.versions)]
            if t % 3 == 0:
                mrs.add_thread(mr, f"t{t}", version=version, old_path=path, old_line=last_old)
            else:
                mrs.add_thread(mr, f"t{t}", version=version, new_path=path, new_line=12 + t)
    client = GitLabClient(fake.url, fake.token, pace=False)
    api = MergeRequestApi(client, MergeRequestRef("sec/planning", mr.iid))
    fake.requests.clear()
    start = time.perf_counter()
    review = collect_threads(api, f"sec/planning!{mr.iid}", prefix="")
    wall = time.perf_counter() - start
    kinds = Counter(
        "raw files" if "repository/files" in r.path else r.path.rsplit("/", 1)[-1]
        if not r.path.split("/")[-1].isdigit() else "version detail / MR"
        for r in fake.requests
    )  # fmt: skip
    outdated = sum(t.outdated for t in review.threads)
    carried = sum(1 for t in review.threads if t.commit == review.head_sha and t.side == "new")
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(
        f"{args.plans} plans x {args.threads} threads, {args.pushes} pushes: "
        f"{len(review.threads)} threads mapped ({outdated} outdated, {carried} on the latest "
        f"head) in {wall:.2f} s with {len(fake.requests)} requests: {dict(kinds)}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        save_review(root, review)
        size = (root / ".secplan" / "mr-threads.json").stat().st_size
        start = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            counts = open_mr_thread_counts(root, env={})
        per = (time.perf_counter() - start) / rounds
        print(
            f"check path: reading the cache ({size / 1024:.0f} KiB, {sum(counts.values())} open "
            f"threads on {len(counts)} plans) takes {per * 1000:.1f} ms"
        )
    client.close()
    fake.stop()


if __name__ == "__main__":
    main()
