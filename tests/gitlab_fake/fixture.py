"""The ``gitlab_fake`` pytest fixture. Use it from any test module or conftest with
``from tests.gitlab_fake.fixture import gitlab_fake  # noqa: F401``; parametrise the tier
indirectly (``@pytest.mark.parametrize("gitlab_fake", ["free"], indirect=True)``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gitlab_fake import FakeGitLab, start_fake


@pytest.fixture
def gitlab_fake(request: pytest.FixtureRequest) -> Iterator[FakeGitLab]:
    """A running fake GitLab (tier ``ultimate`` unless parametrised), stopped afterwards."""
    fake = start_fake(getattr(request, "param", "ultimate"))
    try:
        yield fake
    finally:
        fake.stop()
