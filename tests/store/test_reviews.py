"""Review threads: create, reply, resolve, reopen, count, and feedback flags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from secplan.errors import NotFoundError, UsageError
from secplan.store import Store, open_store, reviews


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path, database_url) as s:
        yield s


def test_thread_lifecycle(store: Store) -> None:
    with store.session() as s:
        thread = reviews.create_thread(
            s, "tls-rotation", "rollout", "Rollout", "alice", "Who owns the rollback?"
        )
    with store.session() as s:
        reviews.add_comment(s, thread.id, "bob", "The platform team.")
        resolved = reviews.resolve_thread(s, thread.id, by="alice")
    assert resolved.resolved and resolved.resolved_by == "alice" and resolved.resolved_at
    with store.session() as s:
        again = reviews.resolve_thread(s, thread.id, by="carol")
    assert again.resolved_by == "alice"  # the first resolution stands
    with store.read_session() as s:
        [loaded] = reviews.list_threads(s, "tls-rotation")
    assert (loaded.anchor, loaded.section_title) == ("rollout", "Rollout")
    assert [(c.author, c.body) for c in loaded.comments] == [
        ("alice", "Who owns the rollback?"),
        ("bob", "The platform team."),
    ]
    assert loaded.comments[0].created_at.tzinfo is not None
    with store.session() as s:
        reopened = reviews.reopen_thread(s, thread.id)
    assert not reopened.resolved and reopened.resolved_by is None


def test_open_thread_counts_per_plan(store: Store) -> None:
    with store.session() as s:
        a1 = reviews.create_thread(s, "plan-a", "goals", "Goals", "alice", "One")
        reviews.create_thread(s, "plan-a", "scope", "Scope", "alice", "Two")
        reviews.create_thread(s, "plan-b", "goals", "Goals", "bob", "Three")
        reviews.create_thread(s, "plan-c", "goals", "Goals", "bob", "Four")
    with store.session() as s:
        reviews.resolve_thread(s, a1.id, "alice")
        [c] = reviews.list_threads(s, "plan-c")
        reviews.resolve_thread(s, c.id, "bob")
    with store.read_session() as s:
        assert reviews.open_thread_counts(s) == {"plan-a": 1, "plan-b": 1}
        assert [t.anchor for t in reviews.list_threads(s, "plan-a")] == ["goals", "scope"]
        assert reviews.list_threads(s, "nothing") == []


def test_bad_input_is_refused_and_nothing_is_stored(store: Store) -> None:
    with pytest.raises(UsageError, match="comment is empty"), store.session() as s:
        reviews.create_thread(s, "plan-a", "goals", "Goals", "alice", "   ")
    with pytest.raises(UsageError, match="longer than"), store.session() as s:
        reviews.create_thread(s, "plan-a", "goals", "Goals", "alice", "x" * 20_001)
    with pytest.raises(NotFoundError), store.session() as s:
        reviews.add_comment(s, 12345, "alice", "Hello?")
    with store.read_session() as s:
        assert reviews.list_threads(s, "plan-a") == []


def test_feedback_requested_flags(store: Store) -> None:
    with store.session() as s:
        reviews.set_feedback_requested(s, "plan-a", "threat-model", True, "alice")
        reviews.set_feedback_requested(s, "plan-a", "rollout", True, "alice")
        reviews.set_feedback_requested(s, "plan-b", "goals", True, "bob")
    with store.session() as s:
        reviews.set_feedback_requested(s, "plan-a", "rollout", False, "alice")
    with store.read_session() as s:
        assert reviews.feedback_requested(s, "plan-a") == {"threat-model": True}
        assert reviews.feedback_requested(s, "plan-c") == {}
