"""``secplan review comments`` and ``secplan review request`` run as commands against the
fake GitLab (a real HTTP server) and a handbook inside a Git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.review.conftest import Setup
from tests.snapshot import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


def comments(setup: Setup, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("review", "comments", setup.ref, *extra, cwd=setup.root, env=setup.env)


def test_comments_text_snapshot(setup: Setup) -> None:
    done = comments(setup)
    assert done.returncode == 0, done.stderr
    assert_snapshot(SNAPSHOTS, "comments.txt", setup.normalise(done.stdout))


def test_comments_json_snapshot_and_mapping(setup: Setup) -> None:
    done = comments(setup, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert_snapshot(SNAPSHOTS, "comments.json", setup.normalise(done.stdout))
    by_body = {t["body"].splitlines()[0]: t for t in data["threads"]}
    added = by_body["Why weekly?"]
    assert (added["plan"], added["line"], added["anchor"], added["side"]) == (
        "rotation", 12, "goals", "new"
    )  # fmt: skip
    unchanged = by_body["Rollout needs an owner."]
    assert (unchanged["line"], unchanged["anchor"], unchanged["resolved"]) == (14, "rollout", True)
    assert unchanged["replies"] == 1
    removed = by_body["Keep stage two?"]
    assert (removed["line"], removed["side"], removed["anchor"]) == (16, "old", "rollout")
    assert removed["commit"] == setup.mr.versions[-1].base_sha
    renamed = by_body["Deploy tokens too?"]
    assert (renamed["plan"], renamed["file"], renamed["anchor"]) == (
        "new-name", "handbook/new-name.md", "scope"
    )  # fmt: skip
    renamed_removed = by_body["Why not project tokens?"]
    assert (renamed_removed["plan"], renamed_removed["file"], renamed_removed["side"]) == (
        "new-name", "handbook/old-name.md", "old"
    )  # fmt: skip
    assert (renamed_removed["line"], renamed_removed["anchor"]) == (11, "scope")
    carried = by_body["Outages of what?"]
    assert (carried["line"], carried["outdated"], carried["anchor"]) == (21, False, "risks")
    assert carried["commit"] == setup.mr.versions[-1].head_sha
    stale = by_body["Two stages?"]
    assert (stale["line"], stale["outdated"], stale["anchor"]) == (16, True, "rollout")
    assert stale["commit"] == setup.mr.versions[0].head_sha
    assert "Not a plan." not in by_body and "Looks good overall." not in by_body
    assert data["skipped"] == 2  # README.md and the general comment; the system note is not one
    assert data["open"] == 6


def test_comments_are_cached_for_check_and_sp501_counts_them(setup: Setup) -> None:
    assert comments(setup).returncode == 0
    cache = json.loads((setup.root / ".secplan" / "mr-threads.json").read_text())
    assert setup.ref in cache["merge_requests"]
    check = run_cli("check", cwd=setup.root, env=setup.env)
    assert "SP501" in check.stdout, check.stdout
    assert (
        "4 unresolved review threads" in check.stdout
    )  # rotation: 2 current, 1 carried, 1 outdated
    assert "2 unresolved review threads" in check.stdout  # new-name, one on its old name
    assert "secplan review comments" in check.stdout
    # Resolve every thread in GitLab: after the next `review comments` the check (findings
    # cache and all) no longer reports them.
    for discussion in setup.mr.discussions:
        for note in discussion["notes"]:
            if note["resolvable"]:
                note["resolved"] = True
    assert comments(setup).returncode == 0
    again = run_cli("check", cwd=setup.root, env=setup.env)
    assert "SP501" not in again.stdout, again.stdout


def test_check_ignores_the_cache_without_the_gitlab_backend(setup: Setup) -> None:
    assert comments(setup).returncode == 0
    config = setup.root / "secplan.toml"
    config.write_text(config.read_text().replace('backend = "gitlab"', 'backend = "local"'))
    check = run_cli("check", cwd=setup.root, env=setup.env)
    assert "SP501" not in check.stdout, check.stdout


def test_check_in_a_merge_request_pipeline_counts_only_that_merge_request(setup: Setup) -> None:
    assert comments(setup).returncode == 0
    env = {
        **setup.env,
        "CI_MERGE_REQUEST_PROJECT_PATH": "sec/planning",
        "CI_MERGE_REQUEST_IID": "99",
    }
    check = run_cli("check", cwd=setup.root, env=env)
    assert "SP501" not in check.stdout, check.stdout
    env["CI_MERGE_REQUEST_IID"] = str(setup.mr.iid)
    assert "SP501" in run_cli("check", cwd=setup.root, env=env).stdout


def request(
    setup: Setup, target: str, text: str = "Please review this section."
) -> subprocess.CompletedProcess[str]:
    return run_cli("review", "request", setup.ref, target, text, cwd=setup.root, env=setup.env)


def _last_note(setup: Setup) -> dict[str, Any]:
    return setup.mr.discussions[-1]["notes"][0]


def test_request_on_an_unchanged_heading_inside_the_diff(setup: Setup) -> None:
    done = request(setup, "rotation#goals")
    assert done.returncode == 0, done.stderr
    note = _last_note(setup)
    position = note["position"]
    latest = setup.mr.versions[-1]
    assert (position["new_line"], position["old_line"]) == (9, 9)
    assert (position["base_sha"], position["head_sha"]) == (latest.base_sha, latest.head_sha)
    assert (
        done.stdout.strip() == f"{setup.fake.url}/sec/planning/-/merge_requests/1#note_{note['id']}"
    )
    # and `review comments` finds it on its section
    listed = json.loads(comments(setup, "--format", "json").stdout)
    mine = [t for t in listed["threads"] if t["body"].startswith("Please review")]
    assert [(t["anchor"], t["line"], t["kind"]) for t in mine] == [("goals", 9, "diff")]


def test_request_on_an_added_heading_names_only_the_new_line(setup: Setup) -> None:
    done = request(setup, "audit-logging#sources")
    assert done.returncode == 0, done.stderr
    position = _last_note(setup)["position"]
    assert (position["new_line"], position.get("old_line")) == (8, None)
    assert position["old_path"] == position["new_path"] == "handbook/audit-logging.md"


def test_request_on_a_renamed_file_names_both_paths(setup: Setup) -> None:
    done = request(setup, "new-name#scope")
    assert done.returncode == 0, done.stderr
    position = _last_note(setup)["position"]
    assert (position["old_path"], position["new_path"]) == (
        "handbook/old-name.md", "handbook/new-name.md"
    )  # fmt: skip
    assert (position["new_line"], position["old_line"]) == (8, 8)


def test_request_outside_the_diff_posts_a_note_linking_the_anchor(setup: Setup) -> None:
    done = request(setup, "rotation#secrets-rotation")
    assert done.returncode == 0, done.stderr
    note = _last_note(setup)
    assert note["position"] is None and note["type"] is None
    assert "`rotation#secrets-rotation`" in note["body"]
    assert "outside this merge request's changes" in note["body"]
    assert done.stdout.strip().endswith(f"#note_{note['id']}")
    listed = json.loads(comments(setup, "--format", "json").stdout)
    mine = [t for t in listed["threads"] if t["kind"] == "note"]
    assert [(t["plan"], t["anchor"], t["line"]) for t in mine] == [
        ("rotation", "secrets-rotation", 7)
    ]


def test_request_on_a_plan_the_merge_request_leaves_alone_posts_a_note(setup: Setup) -> None:
    done = request(setup, "untouched#scope")
    assert done.returncode == 0, done.stderr
    note = _last_note(setup)
    assert note["position"] is None and "`untouched#scope`" in note["body"]


def test_request_on_a_plan_not_in_the_branch(setup: Setup) -> None:
    done = request(setup, "local-only#scope")
    assert done.returncode == 1
    assert "handbook/local-only.md is not in sec/planning!1's source branch" in done.stderr
    assert "Hint:" in done.stderr


def test_request_unknown_anchor_hints_close_ones(setup: Setup) -> None:
    before = len(setup.mr.discussions)
    done = request(setup, "rotation#rolout")
    assert done.returncode == 1
    assert "Error:" in done.stderr and "no section #rolout" in done.stderr
    assert "Hint: Did you mean: #rollout" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(setup.mr.discussions) == before


def test_unknown_merge_request(setup: Setup) -> None:
    done = run_cli("review", "comments", "sec/planning!404", cwd=setup.root, env=setup.env)
    assert done.returncode == 1
    assert "Error: merge request sec/planning!404 not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_rejected_token_is_never_printed(setup: Setup) -> None:
    wrong = "glpat-WrongWrongWrong999"
    env = {"GITLAB_TOKEN": wrong}
    for args in (
        ("review", "comments", setup.ref),
        ("review", "request", setup.ref, "rotation#goals", "Look"),
    ):
        done = run_cli(*args, cwd=setup.root, env=env)
        assert done.returncode == 1
        assert "rejected the token" in done.stderr
        assert wrong not in done.stdout + done.stderr
        assert setup.fake.token not in done.stdout + done.stderr


def test_bad_reference_and_target(setup: Setup) -> None:
    bad = run_cli("review", "comments", "sec/planning#3", cwd=setup.root, env=setup.env)
    assert bad.returncode == 2 and "not a merge request reference" in bad.stderr
    no_anchor = request(setup, "rotation")
    assert no_anchor.returncode == 2 and "PLAN#anchor" in no_anchor.stderr


def test_hostile_comment_text_is_escaped_for_the_terminal(setup: Setup) -> None:
    setup.fake.merge_requests.add_thread(
        setup.mr,
        "\x1b[2J\x1b]0;pwned\x07wipe\rsecond",
        author="mallory",
        new_path="handbook/rotation.md",
        new_line=12,
    )
    done = comments(setup)
    assert done.returncode == 0, done.stderr
    assert any("mallory" in x for x in done.stdout.split("\n"))
    assert not {"\x1b", "\x07", "\r"} & set(done.stdout)
    as_json = comments(setup, "--format", "json")
    assert "\x1b" not in as_json.stdout
    bodies = [t["body"] for t in json.loads(as_json.stdout)["threads"]]
    assert "\x1b[2J\x1b]0;pwned\x07wipe\rsecond" in bodies  # JSON keeps the text, escaped
