"""The GraphQL documents the backend sends validate against GitLab's schema excerpt, and the
validator can fail."""

from __future__ import annotations

import pytest

from secplan.errors import TrackerError
from secplan.tracker.gitlab import graphql as gq
from tests.gitlab_fake import validate


@pytest.mark.parametrize("name", sorted(gq.ALL_DOCUMENTS))
def test_every_document_validates(name):
    assert validate(gq.ALL_DOCUMENTS[name]) == []


def test_the_validator_rejects_a_bad_document():
    # a field the payload does not have
    assert validate(gq.WORK_ITEM_UPDATE.replace("    errors\n", "    problems\n"))
    # an input field GitLab does not have (the hierarchy widget is hierarchyWidget)
    bad_input = """
    mutation { workItemUpdate(input: {id: "gid://gitlab/WorkItem/1",
                                      parentWidget: {parentId: null}}) { errors } }
    """
    assert any("parentWidget" in e for e in validate(bad_input))
    # a required argument left out
    assert validate("query { namespace { id } }")
    # syntax
    assert validate("query {")


def test_a_rejected_document_is_a_tracker_error(make_tracker, gitlab_fake):
    tracker = make_tracker()
    with pytest.raises(TrackerError, match="Cannot query field"):
        tracker.client.graphql('query { namespace(fullPath: "sec") { bogus } }', {}, what="probe")


def test_every_document_sent_in_a_run_was_valid(make_tracker, gitlab_fake):
    from tests.tracker.gitlab.conftest import epic_marker, marker

    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"), labels=["x"])
    issue = tracker.create_issue("sec/planning", "I", marker("a", "1"), epic=epic.ref)
    tracker.find_epics("sec", "<!--")
    tracker.get_epic(epic.ref)
    from secplan.tracker.base import EpicUpdate, IssueUpdate

    tracker.update_epic(epic.ref, EpicUpdate(add_labels=["y"], state_event="close"))
    tracker.update_issue(issue.ref, IssueUpdate(epic=None))
    assert len(gitlab_fake.graphql_documents) >= 6
    assert all(validate(d) == [] for d in gitlab_fake.graphql_documents)
