"""Marker search agrees with plain substring search, whatever characters the text holds."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secplan.tracker.local import LocalTracker

# LIKE wildcards, the escape character, case pairs and marker punctuation.
TEXT = st.text(alphabet="%_\\/!<>-=: aAbB", min_size=0, max_size=12)
_projects = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(descriptions=st.lists(TEXT, min_size=1, max_size=5), marker=TEXT.filter(bool))
def test_find_issues_is_substring_search(
    tracker: LocalTracker, descriptions: list[str], marker: str
) -> None:
    project = f"prop/p{next(_projects)}"
    made = [
        tracker.create_issue(project, f"Issue {n}", description=text)
        for n, text in enumerate(descriptions)
    ]
    expected = [i.ref for i in made if marker in i.description]
    assert [i.ref for i in tracker.find_issues(project, marker)] == expected
