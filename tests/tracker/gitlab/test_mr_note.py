"""``secplan plan --mr-note`` against the GitLab stand-in: one note, updated, never duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from secplan.tracker.gitlab.mr_note import MARKER, note_body
from tests.conftest import run_cli
from tests.gitlab_fake import FakeGitLab
from tests.gitlab_fake.mr_notes import add_mr_note, mr_notes, open_merge_request
from tests.snapshot import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"

MR_IID = 7


@pytest.fixture
def handbook(tmp_path: Path, gitlab_fake: FakeGitLab) -> Path:
    root = tmp_path / "hb"
    done = run_cli(
        "init",
        str(root),
        "--backend",
        "gitlab",
        "--gitlab-url",
        gitlab_fake.url,
        "--group",
        "sec",
        "--project",
        "sec/planning",
    )
    assert done.returncode == 0, done.stderr
    open_merge_request(gitlab_fake, "sec/planning", MR_IID)
    return root


def _ci_env(fake: FakeGitLab, sha: str = "abc1234") -> dict[str, str]:
    project = fake.state.find("sec/planning", "project")
    assert project is not None
    return {
        "GITLAB_TOKEN": fake.token,
        "CI_PROJECT_ID": str(project.id),
        "CI_MERGE_REQUEST_IID": str(MR_IID),
        "CI_COMMIT_SHORT_SHA": sha,
    }


def _plan(root: Path, fake: FakeGitLab, sha: str = "abc1234") -> str:
    done = run_cli("plan", "--mr-note", cwd=root, env=_ci_env(fake, sha))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def test_one_note_created_then_updated_never_duplicated(
    handbook: Path, gitlab_fake: FakeGitLab
) -> None:
    assert "Plan note created" in _plan(handbook, gitlab_fake)
    notes = mr_notes(gitlab_fake, "sec/planning", MR_IID)
    assert len(notes) == 1
    first = notes[0].body
    assert first.startswith(MARKER + "\n**secplan plan** at abc1234: ")
    assert "to create" in first and "example-plan" in first

    # the same pipeline again: nothing sent
    writes = gitlab_fake.count("POST", "notes") + gitlab_fake.count("PUT", "notes")
    assert "Plan note unchanged" in _plan(handbook, gitlab_fake)
    assert gitlab_fake.count("POST", "notes") + gitlab_fake.count("PUT", "notes") == writes

    # a new push that changes the plan: the same note, new text
    plan = handbook / "example-plan.md"
    plan.write_text(plan.read_text().replace("# Example plan", "# Example plan, edited"))
    (handbook / "extra-plan.md").write_text("---\ntitle: Extra plan\n---\n# Extra plan\n")
    assert "Plan note updated" in _plan(handbook, gitlab_fake, sha="def5678")
    notes = mr_notes(gitlab_fake, "sec/planning", MR_IID)
    assert len(notes) == 1
    assert notes[0].body != first
    assert "at def5678" in notes[0].body and "extra-plan" in notes[0].body
    assert gitlab_fake.count("PUT", rf"merge_requests/{MR_IID}/notes/{notes[0].id}$") == 1


def test_a_note_by_someone_else_is_left_alone(handbook: Path, gitlab_fake: FakeGitLab) -> None:
    other = gitlab_fake.state.add_user("mallory")
    quoted = add_mr_note(gitlab_fake, "sec/planning", MR_IID, f"copied:\n{MARKER}\n", other)
    _plan(handbook, gitlab_fake)
    notes = mr_notes(gitlab_fake, "sec/planning", MR_IID)
    assert len(notes) == 2 and notes[0].id == quoted.id
    assert notes[0].body == f"copied:\n{MARKER}\n"  # not ours: never edited
    assert notes[1].author == gitlab_fake.state.me
    _plan(handbook, gitlab_fake, sha="0000001")
    assert len(mr_notes(gitlab_fake, "sec/planning", MR_IID)) == 2


def test_a_failed_post_is_sent_again_once(handbook: Path, gitlab_fake: FakeGitLab) -> None:
    gitlab_fake.fail("POST", rf"merge_requests/{MR_IID}/notes$", 502)
    _plan(handbook, gitlab_fake)
    assert len(mr_notes(gitlab_fake, "sec/planning", MR_IID)) == 1
    assert gitlab_fake.count("POST", rf"merge_requests/{MR_IID}/notes$") == 2


def test_outside_a_merge_request_pipeline(handbook: Path, gitlab_fake: FakeGitLab) -> None:
    done = run_cli("plan", "--mr-note", cwd=handbook, env={"GITLAB_TOKEN": gitlab_fake.token})
    assert done.returncode == 2
    assert "Error: --mr-note needs a merge request" in done.stderr
    assert "CI_MERGE_REQUEST_IID" in done.stderr and "Hint:" in done.stderr
    env = _ci_env(gitlab_fake)
    env["CI_MERGE_REQUEST_IID"] = "99"  # no such merge request
    missing = run_cli("plan", "--mr-note", cwd=handbook, env=env)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "Error:" in missing.stderr


def test_hostile_plan_text_cannot_close_the_code_block() -> None:
    body = note_body(["+ issue ``````` </details> <script>", "Plan: 1 to create"])
    assert "\n````````text\n" in body  # a fence longer than the text's longest run
    assert body.count("</details>") == 2  # the text's own stays inside the code block
    assert body.startswith(MARKER)
    quick = note_body(["/merge", "/close now", "Plan: 0 to create"])
    assert not [ln for ln in quick.splitlines() if ln.startswith("/")]  # no quick actions


def test_note_body_snapshot() -> None:
    lines = [
        "rotation (review; the plan is the source of truth) rotation.md",
        '  + issue "Inventory every runner secret" %"Rotation MVP" ~ci',
        '  ~ issue sec/planning#4 "Rotate the deploy keys": labels +secrets',
        "",
        "Plan: 1 to create, 1 to update, 0 unchanged, 0 drift, 0 orphans.",
    ]
    assert_snapshot(SNAPSHOTS, "mr-note.md", note_body(lines, commit="abc1234"))
