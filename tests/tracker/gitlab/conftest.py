"""Fixtures for the GitLab backend's tests: the fake GitLab and trackers pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from secplan.tracker.gitlab import GitLabTracker
from tests.gitlab_fake import FakeGitLab
from tests.gitlab_fake.fixture import gitlab_fake  # noqa: F401  (the fixture)


class Sleeps(list[float]):
    """A stand-in for ``time.sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_tracker(
    gitlab_fake: FakeGitLab,  # noqa: F811
    sleeps: Sleeps,
) -> Iterator[Callable[..., GitLabTracker]]:
    """``make_tracker(**overrides)``: a GitLabTracker on the fake (no pacing, waits recorded)."""
    made: list[GitLabTracker] = []

    def make(**kw: Any) -> GitLabTracker:
        opts: dict[str, Any] = {
            "default_group": "sec",
            "default_project": "sec/planning",
            "pace": False,
            "sleep": sleeps,
            "timeout": 5.0,
        }
        opts.update(kw)
        token = opts.pop("token", gitlab_fake.token)
        tracker = GitLabTracker(gitlab_fake.url, token, **opts)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.close()


def marker(plan: str, item: str) -> str:
    return f"<!-- secplan:plan={plan} item={item} -->"


def epic_marker(plan: str) -> str:
    return f"<!-- secplan:plan={plan} kind=epic -->"
