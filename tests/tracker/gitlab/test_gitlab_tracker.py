"""GitLabTracker against the fake: issues, epics in each tier, milestones, labels, assignees."""

from __future__ import annotations

import pytest

from secplan.errors import NotFoundError, UsageError
from secplan.tracker.base import EpicUpdate, IssueUpdate, MilestoneUpdate
from secplan.tracker.gitlab.tracker import normalise_url
from tests.tracker.gitlab.conftest import epic_marker, marker

PREFIX = "<!-- secplan:plan="


def test_identity_is_the_normalised_instance_url(make_tracker, gitlab_fake):
    tracker = make_tracker()
    assert tracker.identity == f"gitlab:{gitlab_fake.url}"
    assert normalise_url("HTTPS://GitLab.Example.com/") == "https://gitlab.example.com"
    with pytest.raises(UsageError):
        normalise_url("gitlab.example.com")


@pytest.mark.parametrize(
    ("gitlab_fake", "mode"),
    [("ultimate", "work_items"), ("premium", "rest"), ("free", "tracking_issue")],
    indirect=["gitlab_fake"],
)
def test_each_tier_keeps_the_plan_under_its_epic(make_tracker, gitlab_fake, mode):
    tracker = make_tracker()
    assert tracker.capabilities.epics == mode
    assert tracker.capabilities.epic_milestones is False
    epic = tracker.create_epic("sec", "Plan A", f"Plan\n{epic_marker('a')}", labels=["area::x"])
    tracker.create_milestone("sec", "M1")
    issue = tracker.create_issue(
        "sec/planning", "Item", f"text\n{marker('a', 'i1')}", milestone="M1", epic=epic.ref
    )
    assert issue.epic == epic.ref and issue.milestone == "M1" and issue.confidential

    # a new tracker (a new run) reads the same relation back from GitLab
    again = make_tracker()
    [found] = again.find_issues("sec/planning", PREFIX)
    assert (found.ref, found.epic) == (issue.ref, epic.ref)
    [found_epic] = again.find_epics("sec", PREFIX)
    assert found_epic.ref == epic.ref and "secplan::managed" in found_epic.labels
    assert [i.ref for i in again.list_issues(epic=epic.ref, state="all")] == [issue.ref]

    moved = again.update_issue(issue.ref, IssueUpdate(epic=None))
    assert moved.epic is None
    assert make_tracker().get_issue(issue.ref).epic is None


@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)
def test_free_tier_tracking_issue_is_confidential_labelled_and_linked(make_tracker, gitlab_fake):
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan A", epic_marker("a"))
    assert epic.ref.startswith("sec/planning#")
    tracking = gitlab_fake.issues_in("sec/planning")[0]
    assert tracking.confidential and "secplan::epic" in tracking.labels
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "i1"), epic=epic.ref)
    assert [(lnk["source"], lnk["target"]) for lnk in gitlab_fake.state.links] == [
        (gitlab_fake.issues_in("sec/planning")[1].id, tracking.id)
    ]
    # the tracking issue is an epic, not one of the plan's issues
    assert [i.ref for i in tracker.find_issues("sec/planning", PREFIX)] == [issue.ref]
    assert tracker.get_epic(epic.ref).title == "Plan A"
    assert tracker.get_epic(issue.ref) is None


def test_find_issues_is_one_listing_filtered_by_the_managed_label(make_tracker, gitlab_fake):
    tracker = make_tracker()
    for n in range(3):
        tracker.create_issue("sec/planning", f"Item {n}", f"x\n{marker('a', f'i{n}')}")
    # an issue a person made, mentioning a marker in text: not secplan's
    gitlab_fake.state.issues[0].labels.remove("secplan::managed")
    start = len(gitlab_fake.requests)
    found = make_tracker().find_issues("sec/planning", marker("a", "i2"))
    assert [i.title for i in found] == ["Item 2"]
    listings = gitlab_fake.requests[start:]
    assert [r.query.get("labels") for r in listings if r.path.endswith("/issues")] == [
        ["secplan::managed"]
    ]


def test_labels_are_created_in_the_group_before_use(make_tracker, gitlab_fake):
    tracker = make_tracker()
    tracker.create_issue("sec/planning", "Item", marker("a", "1"), labels=["team::red"])
    tracker.create_issue("sec/planning", "Item 2", marker("a", "2"), labels=["team::red"])
    assert set(gitlab_fake.state.labels) == {"sec"}  # no project labels
    assert set(gitlab_fake.state.labels["sec"]) == {"team::red", "secplan::managed"}
    assert gitlab_fake.count("POST", r"groups/sec/labels$") == 2
    assert gitlab_fake.count("GET", r"labels$") == 1  # listed once per run


def test_update_sends_label_changes_as_add_and_remove(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"), labels=["a", "b"])
    gitlab_fake.state.issues[0].labels.append("person-added")
    updated = tracker.update_issue(
        issue.ref, IssueUpdate(add_labels=["c"], remove_labels=["a"], title="New")
    )
    assert sorted(updated.labels) == ["b", "c", "person-added", "secplan::managed"]
    put = [r for r in gitlab_fake.requests if r.method == "PUT"][-1]
    assert put.body == {"title": "New", "add_labels": "c", "remove_labels": "a"}


def test_one_edit_is_one_write(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    writes = tracker.stats.writes
    tracker.update_issue(issue.ref, IssueUpdate(description="changed"))
    assert tracker.stats.writes == writes + 1


def test_assignees_resolved_once_and_free_keeps_one(make_tracker, gitlab_fake):
    tracker = make_tracker()
    a = tracker.create_issue("sec/planning", "A", marker("a", "1"), assignees=["alice", "bob"])
    b = tracker.create_issue("sec/planning", "B", marker("a", "2"), assignees=["alice", "bob"])
    assert a.assignees == b.assignees == ["alice", "bob"]
    assert gitlab_fake.count("GET", r"^users$") == 2
    with pytest.raises(NotFoundError, match="nobody"):
        tracker.create_issue("sec/planning", "C", marker("a", "3"), assignees=["nobody"])


@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)
def test_free_tier_sends_one_assignee(make_tracker, gitlab_fake):
    tracker = make_tracker()
    assert tracker.capabilities.multiple_assignees is False
    issue = tracker.create_issue("sec/planning", "A", marker("a", "1"), assignees=["alice", "bob"])
    assert issue.assignees == ["alice"]


def test_paths_are_case_insensitive(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("SEC/Planning", "Item", marker("a", "1"))
    assert issue.ref == "sec/planning#1"  # GitLab's own spelling
    assert tracker.get_issue("Sec/PLANNING#1").ref == issue.ref
    assert list(tracker.get_issues(["SEC/planning#1"])) == ["SEC/planning#1"]


def test_get_issues_batches_and_leaves_out_missing(make_tracker, gitlab_fake):
    tracker = make_tracker()
    refs = [
        tracker.create_issue("sec/planning", f"I{n}", marker("a", str(n))).ref for n in range(5)
    ]
    before = gitlab_fake.count("GET")
    found = tracker.get_issues([*refs, "sec/planning#99", "other/project#1"])
    assert sorted(found) == sorted(refs)
    assert gitlab_fake.count("GET") - before == 2  # one per project


def test_milestones(make_tracker, gitlab_fake):
    from datetime import date

    tracker = make_tracker()
    tracker.create_milestone("sec", "Q1", start=date(2026, 1, 1), due=date(2026, 3, 31))
    got = tracker.get_milestone("sec", "Q1")
    assert (got.start, got.due, got.state) == (date(2026, 1, 1), date(2026, 3, 31), "opened")
    closed = tracker.update_milestone("sec", "Q1", MilestoneUpdate(state_event="close"))
    assert closed.state == "closed"
    assert [m.title for m in tracker.list_milestones("sec")] == ["Q1"]
    assert tracker.get_milestone("sec", "Q2") is None
    with pytest.raises(NotFoundError):
        tracker.create_issue("sec/planning", "X", marker("a", "1"), milestone="Q2")


@pytest.mark.parametrize("gitlab_fake", ["ultimate", "premium", "free"], indirect=True)
def test_update_epic(make_tracker, gitlab_fake):
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"), labels=["old"])
    updated = tracker.update_epic(
        epic.ref, EpicUpdate(title="Plan v2", add_labels=["new"], remove_labels=["old"])
    )
    assert updated.title == "Plan v2"
    assert "new" in updated.labels and "old" not in updated.labels
    closed = tracker.update_epic(epic.ref, EpicUpdate(state_event="close"))
    assert closed.state == "closed"


def test_notes_close_reopen_and_state_events(make_tracker, gitlab_fake):
    tracker = make_tracker()
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    closed = tracker.close_issue(issue.ref, note="done in plan")
    assert closed.state == "closed"
    assert [n.body for n in tracker.notes(issue.ref)] == ["done in plan"]
    assert tracker.reopen_issue(issue.ref).state == "opened"
    states = [e.state for e in tracker.state_events([issue.ref])]
    assert states == ["opened", "closed", "opened"]


def test_link_issues_is_idempotent(make_tracker, gitlab_fake):
    tracker = make_tracker()
    a = tracker.create_issue("sec/planning", "A", marker("a", "1"))
    b = tracker.create_issue("sec/planning", "B", marker("a", "2"))
    tracker.link_issues(a.ref, b.ref, "blocks")
    tracker.link_issues(a.ref, b.ref, "blocks")
    assert len(gitlab_fake.state.links) == 1
    with pytest.raises(UsageError):
        tracker.link_issues(a.ref, a.ref)


@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)
def test_free_tier_a_plain_link_is_not_an_epic(make_tracker, gitlab_fake):
    tracker = make_tracker()
    a = tracker.create_issue("sec/planning", "A", marker("a", "1"))
    b = tracker.create_issue("sec/planning", "B", marker("a", "2"))
    tracker.link_issues(a.ref, b.ref)
    assert tracker.get_issue(a.ref).epic is None
    assert make_tracker().get_issue(a.ref).epic is None


def test_open_gitlab_tracker_reads_the_config(gitlab_fake, monkeypatch):
    from types import SimpleNamespace

    from secplan.tracker.gitlab import open_gitlab_tracker

    monkeypatch.setenv("GITLAB_TOKEN", gitlab_fake.token)
    config = SimpleNamespace(gitlab_url=gitlab_fake.url + "/", group="sec", tracker="sec/planning")
    tracker = open_gitlab_tracker(config, pace=False)
    try:
        assert tracker.identity == f"gitlab:{gitlab_fake.url}"
        assert (tracker.default_group, tracker.default_project) == ("sec", "sec/planning")
        assert tracker.check_access(["sec/planning"], ["sec"]) == []
    finally:
        tracker.close()
    monkeypatch.delenv("GITLAB_TOKEN")
    with pytest.raises(UsageError, match="no GitLab token"):
        open_gitlab_tracker(config)
    with pytest.raises(UsageError, match="gitlab_url"):
        open_gitlab_tracker(SimpleNamespace(gitlab_url=None, group=None, tracker=None))


def test_apply_progress_counts_writes(make_tracker, gitlab_fake):
    import io

    from rich.console import Console

    from secplan.tracker.gitlab.progress import ApplyProgress

    out = io.StringIO()
    with ApplyProgress(3, min_total=1, console=Console(file=out, force_terminal=True)) as bar:
        tracker = make_tracker(progress=bar)
        tracker.create_milestone("sec", "M1")
        tracker.create_issue("sec/planning", "I", marker("a", "1"))
        assert bar.done == 2
    assert "ETA" in out.getvalue()


def test_apply_progress_total_later_and_plan_text_is_not_markup():
    import io

    from rich.console import Console

    from secplan.tracker.gitlab.progress import ApplyProgress

    out = io.StringIO()
    with ApplyProgress(min_total=2, console=Console(file=out, force_terminal=True)) as bar:
        bar.step("before the plan")  # counted, not shown: the total is not known yet
        assert not bar.enabled
        bar.plan(3)
        assert bar.enabled
        bar.step("issue [bold]x[/bold]\x1b[31m")
        assert bar.done == 2
    shown = out.getvalue()
    assert "2/3" in shown and "issue [bold]x[/bold]" in shown and "\x1b[31m" not in shown
    quiet = io.StringIO()
    with ApplyProgress(min_total=5, console=Console(file=quiet, force_terminal=True)) as bar:
        bar.plan(4)  # too short to be worth a bar
        bar.step("x")
    assert quiet.getvalue() == "" and not bar.enabled
    piped = io.StringIO()
    with ApplyProgress(100, console=Console(file=piped)) as bar:  # not a terminal
        bar.step("x")
    assert piped.getvalue() == ""


def test_work_item_epic_without_rest_id_uses_the_hierarchy_widget(make_tracker, gitlab_fake):
    # an instance that no longer serves REST epics: the issue goes under the epic by GraphQL
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"))
    gitlab_fake.fail("GET", r"^groups/sec/epics/\d+$", 404, body={"message": "404 Not found"})
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"), epic=epic.ref)
    assert issue.epic == epic.ref
    assert gitlab_fake.state.issues[0].epic_wi == gitlab_fake.state.epics[0].wi_id
    assert any(
        "hierarchyWidget" in str(r.body) for r in gitlab_fake.requests if r.path == "graphql"
    )


def test_work_item_epic_new_issue_is_one_write(make_tracker, gitlab_fake):
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"))
    tracker.create_issue("sec/planning", "Item 0", marker("a", "0"), epic=epic.ref)
    writes = tracker.stats.writes
    tracker.create_issue("sec/planning", "Item 1", marker("a", "1"), epic=epic.ref)
    assert tracker.stats.writes == writes + 1
    assert make_tracker().get_issue("sec/planning#2").epic == epic.ref
