"""Promotion through the quick action, the preflight, and pacing."""

from __future__ import annotations

import pytest

from secplan.errors import TrackerError
from secplan.tracker.gitlab.stats import ApiStats, Pacer
from tests.gitlab_fake.state import GUEST, PLANNER
from tests.tracker.gitlab.conftest import marker


@pytest.mark.parametrize("gitlab_fake", ["ultimate", "premium"], indirect=True)
def test_promote_with_the_quick_action(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Grow up", "body", labels=["x"])
    epic = tracker.promote_issue(issue.ref)
    assert (epic.ref, epic.title, epic.description) == ("sec&1", "Grow up", "body")
    notes = [r for r in gitlab_fake.requests if r.method == "POST" and r.path.endswith("/notes")]
    assert [n.body for n in notes] == [{"body": "/promote"}]
    # a note made only of quick actions is not kept; the system note says where it went
    assert [n.body for n in gitlab_fake.state.notes[("issue", gitlab_fake.state.issues[0].id)]] == [
        "promoted to epic sec&1"
    ]
    assert tracker.get_issue(issue.ref).state == "closed"


def test_promote_falls_back_to_promote_to_epic(make_tracker, gitlab_fake):
    gitlab_fake.promote_commands = ("/promote_to Epic",)  # a version without /promote
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Grow up", "body")
    epic = tracker.promote_issue(issue.ref)
    assert epic.title == "Grow up"
    sent = [
        r.body["body"]
        for r in gitlab_fake.requests
        if r.method == "POST" and r.path.endswith("/notes")
    ]
    assert sent == ["/promote", "/promote_to Epic"]
    # the plain note "/promote" became was deleted again
    assert all(n.system for n in gitlab_fake.state.notes[("issue", gitlab_fake.state.issues[0].id)])


def test_promote_without_any_accepted_command_is_an_error(make_tracker, gitlab_fake):
    gitlab_fake.promote_commands = ()
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Grow up", "body")
    with pytest.raises(TrackerError, match="neither /promote nor /promote_to Epic"):
        tracker.promote_issue(issue.ref)
    assert gitlab_fake.state.notes.get(("issue", gitlab_fake.state.issues[0].id), []) == []


@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)
def test_promote_on_free_makes_the_issue_the_tracking_issue(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Grow up", "body")
    epic = tracker.promote_issue(issue.ref)
    assert epic.ref == issue.ref
    assert "secplan::epic" in gitlab_fake.state.issues[0].labels
    assert [e.ref for e in tracker.list_epics("sec")] == [issue.ref]


def test_check_access_ok(make_tracker, gitlab_fake):
    assert make_tracker().check_access(["sec/planning"], ["sec"]) == []


def test_check_access_reports_every_problem(make_tracker, gitlab_fake):
    gitlab_fake.state.add_project("ops/tools")
    gitlab_fake.state.access["ops/tools"] = GUEST
    gitlab_fake.state.access["ops"] = GUEST
    problems = make_tracker().check_access(["sec/planning", "ops/tools", "nope/x"], ["ops"])
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {"ops/tools", "nope/x", "ops"}
    assert "confidential" in by_path["ops/tools"].message
    assert "Reporter" in by_path["ops/tools"].message
    assert "Planner" in by_path["ops"].message
    assert by_path["nope/x"].kind == "project" and "no project" in by_path["nope/x"].message


def test_check_access_planner_is_enough_for_a_group(make_tracker, gitlab_fake):
    gitlab_fake.state.access["sec"] = PLANNER
    gitlab_fake.state.access["sec/planning"] = 20
    assert make_tracker().check_access(["sec/planning"], ["sec"]) == []


def test_guest_cannot_see_confidential_issues_so_the_preflight_says_so(make_tracker, gitlab_fake):
    # what the preflight protects against: another user's confidential issue is invisible
    tracker = make_tracker()
    tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    gitlab_fake.state.issues[0].author = 2
    gitlab_fake.state.access["sec/planning"] = GUEST
    gitlab_fake.state.access["sec"] = GUEST
    assert tracker.find_issues("sec/planning", marker("a", "1")) == []
    [problem] = [p for p in tracker.check_access(["sec/planning"], []) if p.kind == "project"]
    assert "create them again" in problem.message


def test_check_access_read_api_token(make_tracker, gitlab_fake):
    gitlab_fake.state.scopes = ["read_api"]
    problems = make_tracker().check_access(["sec/planning"], ["sec"])
    assert [p.path for p in problems] == ["sec/planning", "sec"]
    assert "`api`" in problems[0].message


def test_pacer_spaces_creations_and_counts_the_waits():
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    stats = ApiStats()
    pacer = Pacer(stats, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        pacer.wait("create")
    pacer.wait(None)  # reads are not paced
    assert len(slept) == 3 and all(abs(s - 60 / 180) < 1e-9 for s in slept)
    assert stats.waits == 3
    for _ in range(2):
        pacer.wait("note")
    assert abs(slept[-1] - 60 / 55) < 1e-9  # below 60 notes a minute
    assert Pacer(ApiStats(), enabled=False, sleep=sleep).wait("create") is None


def test_paced_tracker_waits_between_creations(make_tracker, gitlab_fake, sleeps):
    tracker = make_tracker(pace=True)
    for n in range(3):
        tracker.create_issue("sec/planning", f"I{n}", marker("a", str(n)))
    assert len([s for s in sleeps if s > 0]) >= 2
    assert "waits" in tracker.stats.summary()


def test_progress_is_told_about_each_write(make_tracker, gitlab_fake):
    seen: list[str] = []
    tracker = make_tracker(progress=seen.append)
    tracker.create_milestone("sec", "M1")
    tracker.create_issue("sec/planning", "I", marker("a", "1"))
    assert seen == ["milestone M1", "issue sec/planning#1"]


def test_promote_whose_answer_was_lost_is_not_sent_again(make_tracker, gitlab_fake):
    tracker = make_tracker(timeout=0.5)
    issue = tracker.create_issue("sec/planning", "Grow up", "body")
    gitlab_fake.delay("POST", r"/notes$", 1.5)
    epic = tracker.promote_issue(issue.ref)
    assert epic.title == "Grow up"
    assert len(gitlab_fake.state.epics) == 1
    assert gitlab_fake.count("POST", r"/notes$") == 1


@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)
def test_progress_is_one_step_per_object(make_tracker, gitlab_fake):
    seen: list[str] = []
    tracker = make_tracker(progress=seen.append)
    epic = tracker.create_epic("sec", "Plan", "<!-- secplan:plan=a kind=epic -->")
    issue = tracker.create_issue("sec/planning", "I", marker("a", "1"), epic=epic.ref)
    tracker.close_issue(issue.ref, note="done")
    assert seen == [f"epic {epic.ref}", f"issue {issue.ref}", f"issue {issue.ref}"]
