"""The library side of review in merge requests, against the fake GitLab: GitLab refuses a
position outside the diff, a lost answer is never posted twice, the cache feeds the web's
data function, and ``secplan check`` reads the cache without GitLab or SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from secplan.errors import TrackerError
from secplan.markdown import parse_plan
from secplan.refs import MergeRequestRef
from secplan.review.mr import (
    collect_threads,
    mr_open_counts_for_plan,
    mr_threads_for_plan,
    request_review,
    save_review,
)
from secplan.tracker.gitlab.client import GitLabClient
from secplan.tracker.gitlab.merge_requests import MergeRequestApi
from tests.review.conftest import V2, Setup


@pytest.fixture
def api(setup: Setup) -> Iterator[MergeRequestApi]:
    client = GitLabClient(setup.fake.url, setup.fake.token, pace=False, timeout=1.0, backoff=0)
    try:
        yield MergeRequestApi(client, MergeRequestRef("sec/planning", setup.mr.iid))
    finally:
        client.close()


def test_gitlab_refuses_a_position_outside_the_diff(setup: Setup, api: MergeRequestApi) -> None:
    latest = setup.mr.versions[-1]
    position = {
        "position_type": "text",
        "base_sha": latest.base_sha,
        "start_sha": latest.start_sha,
        "head_sha": latest.head_sha,
        "old_path": "handbook/rotation.md",
        "new_path": "handbook/rotation.md",
        "new_line": 7,  # "# Secrets rotation": outside every hunk
        "old_line": 7,
    }
    with pytest.raises(TrackerError, match="line_code"):
        api.create_discussion("x", position)
    # an added line given with an old_line too is refused as well
    with pytest.raises(TrackerError):
        api.create_discussion("x", {**position, "new_line": 12, "old_line": 12})


def test_a_lost_answer_is_found_not_posted_twice(setup: Setup, api: MergeRequestApi) -> None:
    setup.fake.delay("POST", r"merge_requests/\d+/discussions$", 2.0)
    plan = parse_plan(V2, plan_id="rotation", rel_path="rotation.md")
    before = len(setup.mr.discussions)
    made = request_review(
        api, repo_path="handbook/rotation.md", plan=plan, anchor="goals", text="Look here"
    )
    assert made.kind == "diff" and made.line == 9
    assert len(setup.mr.discussions) == before + 1
    assert setup.fake.count("POST", r"discussions$") == 1


def test_cached_threads_for_the_web(setup: Setup, api: MergeRequestApi) -> None:
    review = collect_threads(api, "sec/planning!1", prefix="handbook")
    save_review(setup.root, review)
    by_section = mr_threads_for_plan(setup.root, "rotation")
    assert sorted(k for k in by_section if k) == ["goals", "risks", "rollout"]
    rollout = by_section["rollout"]
    assert [(t.line, t.resolved, t.outdated) for t in rollout] == [
        (14, True, False), (16, False, False), (16, False, True),
    ]  # fmt: skip
    assert all(t.merge_request == "sec/planning!1" for t in rollout)
    assert rollout[0].url.endswith(f"#note_{setup.mr.discussions[1]['notes'][0]['id']}")
    assert mr_threads_for_plan(setup.root, "no-such-plan") == {}
    # the counts on the headings: open threads only, as SP501 counts them
    assert mr_open_counts_for_plan(setup.root, "rotation") == {"goals": 1, "rollout": 2, "risks": 1}
    # each (path, commit) is read once: rotation at two heads and the base, new-name, README
    assert setup.fake.count("GET", r"repository/files/.*/raw") <= 5


def test_check_reads_the_cache_without_gitlab_or_sqlalchemy(
    setup: Setup, api: MergeRequestApi
) -> None:
    save_review(setup.root, collect_threads(api, "sec/planning!1", prefix="handbook"))
    script = (
        "import sys, atexit\n"
        "mods = ('sqlalchemy', 'requests', 'gitlab', 'secplan.tracker.gitlab',"
        " 'secplan.review.mr')\n"
        "atexit.register(lambda: print(sorted(m for m in mods if m in sys.modules),"
        " file=sys.stderr))\n"
        "from secplan.cli.fast import main\n"
        "sys.argv = ['secplan', 'check', '--exit-zero']\n"
        "main()\n"
    )
    requests_before = len(setup.fake.requests)
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=setup.root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "SP501" in run.stdout
    assert run.stderr.strip().splitlines()[-1] == "[]"
    assert len(setup.fake.requests) == requests_before


def test_discussions_are_read_page_by_page(setup: Setup, api: MergeRequestApi) -> None:
    for n in range(150):
        setup.fake.merge_requests.add_thread(
            setup.mr, f"Comment {n}", new_path="handbook/rotation.md", new_line=12
        )
    review = collect_threads(api, "sec/planning!1", prefix="handbook")
    assert sum(1 for t in review.threads if t.body.startswith("Comment ")) == 150
    assert setup.fake.count("GET", r"merge_requests/\d+/discussions$") == 2  # 100 + 59


def test_marker_round_trips_odd_plan_ids() -> None:
    from secplan.review.mr import _MARKER, marker

    m = _MARKER.search(marker("team a/plan>x", "rollout"))
    assert m is not None and m["anchor"] == "rollout"
    from urllib.parse import unquote

    assert unquote(m["plan"]) == "team a/plan>x"


def test_the_plan_page_shows_merge_request_threads_at_their_sections(
    setup: Setup, api: MergeRequestApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from secplan.web.app import create_app
    from secplan.web.security import Auth

    setup.fake.merge_requests.add_thread(
        setup.mr, "Why **weekly**?\n\n<script>alert(1)</script>", new_path="handbook/rotation.md",
        new_line=12,
    )  # fmt: skip
    save_review(setup.root, collect_threads(api, "sec/planning!1", prefix="handbook"))
    monkeypatch.setenv("GITLAB_TOKEN", setup.fake.token)
    app = create_app(setup.root, auth=Auth(), scan_interval=0.0)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/plans/rotation")
        assert page.status_code == 200
        html = page.text
        by_section = mr_threads_for_plan(setup.root, "rotation")
        counts = mr_open_counts_for_plan(setup.root, "rotation")
        for anchor, threads in by_section.items():
            if not anchor:
                continue
            review = html.split(f'id="review-{anchor}"', 1)[1].split("</section>", 1)[0]
            assert review.count('class="thread mr-thread') == len(threads), anchor
            # the heading's badge counts the open merge request threads too
            heading = html.split(f'id="{anchor}"', 1)[1].split("</h", 1)[0]
            assert f"{counts[anchor]} open thread" in heading, anchor
        assert "<script>alert" not in html and "<strong>weekly</strong>" in html
        assert html.count("Answer in GitLab") == sum(len(t) for t in by_section.values())
        # a new review run shows up without a restart
        setup.fake.merge_requests.add_thread(
            setup.mr, "One more question.", new_path="handbook/rotation.md", new_line=12
        )
        save_review(setup.root, collect_threads(api, "sec/planning!1", prefix="handbook"))
        assert "One more question." in client.get("/plans/rotation").text
