"""A GitLab stand-in for tests: ``start_fake(tier)`` returns a running :class:`FakeGitLab`
(``.url``, ``.token``, ``.requests``, ``.state``, fault injection, ``.stop()``, and
``.merge_requests`` for merge requests with diff versions, discussions and files at a commit);
the pytest fixture ``gitlab_fake`` is in :mod:`tests.gitlab_fake.fixture`."""

from __future__ import annotations

from tests.gitlab_fake.graphql_api import validate
from tests.gitlab_fake.server import FakeGitLab, Request


def start_fake(tier: str = "ultimate") -> FakeGitLab:
    """A fake GitLab serving on 127.0.0.1 (random port) with group ``sec`` and project
    ``sec/planning``; ``tier`` is ``ultimate`` (work-item epics), ``premium`` (REST epics, no
    Epic work item type) or ``free`` (no epics). Call ``.stop()`` when done."""
    return FakeGitLab(tier)


__all__ = ["FakeGitLab", "Request", "start_fake", "validate"]
