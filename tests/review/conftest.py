"""A handbook inside a Git repository (at ``handbook/``) and a fake GitLab with one merge
request on it: two pushes, threads on added, unchanged, removed, renamed and outdated lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.gitlab_fake import FakeGitLab
from tests.gitlab_fake.fixture import gitlab_fake  # noqa: F401  (the fixture)
from tests.gitlab_fake.merge_requests import MergeRequest

BASE = """---
title: Secrets rotation
status: review
owners: [alice]
---

# Secrets rotation

## Goals

Rotate every secret.

## Rollout

Stage one.
Stage two.

## Risks

Leaks.
"""
#: push 1: a risk added
V1 = BASE.replace("Leaks.\n", "Leaks.\nOutages.\n")
#: push 2: a goal line added (line 12), "Stage two." (old line 16) removed
V2 = V1.replace("Rotate every secret.\n", "Rotate every secret.\nWeekly, by a pipeline.\n")
V2 = V2.replace("Stage two.\n", "")
OTHER = """---
title: Token hygiene
status: review
---

# Token hygiene

## Scope

Personal access tokens.
Project tokens.
"""
#: renamed to new-name.md, "Project tokens." (old line 11) replaced by "Deploy tokens." (11)
OTHER_V = OTHER.replace("Project tokens.\n", "Deploy tokens.\n")
#: a plan the merge request does not change
UNTOUCHED = """---
title: Untouched
status: review
---

# Untouched

## Scope

Nothing changes here.
"""
NEW_PLAN = """---
title: Audit logging
status: draft
---

# Audit logging

## Sources

Every runner.
"""


@dataclass
class Setup:
    fake: FakeGitLab
    root: Path  # the handbook (repository/handbook)
    mr: MergeRequest
    env: dict[str, str]

    @property
    def ref(self) -> str:
        return f"sec/planning!{self.mr.iid}"

    def normalise(self, text: str) -> str:
        """Output with the fake's random port replaced by a fixed address."""
        return text.replace(self.fake.url, "https://gitlab.example.com")


def write_handbook(root: Path, url: str, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    (root.parent / ".git").mkdir()
    (root / "secplan.toml").write_text(
        f'backend = "gitlab"\ngitlab_url = "{url}"\ngroup = "sec"\ntracker = "sec/planning"\n',
        encoding="utf-8",
    )
    (root / "index.md").write_text(
        "# Plans\n\n<!-- secplan:catalog -->\n<!-- /secplan:catalog -->\n", encoding="utf-8"
    )
    for path, text in files.items():
        (root / path).write_text(text, encoding="utf-8")


@pytest.fixture
def setup(gitlab_fake: FakeGitLab, tmp_path: Path) -> Iterator[Setup]:  # noqa: F811
    mrs = gitlab_fake.merge_requests
    base = {
        "handbook/rotation.md": BASE,
        "handbook/old-name.md": OTHER,
        "handbook/untouched.md": UNTOUCHED,
        "README.md": "hi\n",
    }
    renames = {"handbook/new-name.md": "handbook/old-name.md"}
    head1 = {
        "handbook/rotation.md": V1,
        "handbook/new-name.md": OTHER_V,
        "README.md": "hi\nthere\n",
        "handbook/audit-logging.md": NEW_PLAN,
        "handbook/untouched.md": UNTOUCHED,
    }
    mr = mrs.open("sec/planning", base, head1, renames=renames)
    v1 = mr.versions[-1]
    mrs.push(mr, {**head1, "handbook/rotation.md": V2}, renames=renames)
    # on push 2 (the latest)
    mrs.add_thread(
        mr, "Why weekly?\nA monthly run is enough.", new_path="handbook/rotation.md", new_line=12
    )
    mrs.add_thread(
        mr, "Rollout needs an owner.", author="bob", new_path="handbook/rotation.md",
        new_line=14, old_line=13, resolved=True, replies=["Added one."],
    )  # fmt: skip
    mrs.add_thread(mr, "Keep stage two?", old_path="handbook/rotation.md", old_line=16)
    mrs.add_thread(
        mr, "Deploy tokens too?", author="bob", new_path="handbook/new-name.md",
        old_path="handbook/old-name.md", new_line=11,
    )  # fmt: skip
    mrs.add_thread(mr, "Why not project tokens?", old_path="handbook/old-name.md", old_line=11)
    mrs.add_thread(mr, "Not a plan.", new_path="README.md", new_line=2)
    # on push 1 (outdated): one line still there, one removed since
    mrs.add_thread(mr, "Outages of what?", version=v1, new_path="handbook/rotation.md", new_line=21)
    mrs.add_thread(
        mr, "Two stages?", version=v1, new_path="handbook/rotation.md", new_line=16, old_line=16
    )
    mrs.add_comment(mr, "Looks good overall.")
    mrs.add_comment(mr, "added 1 commit", system=True)
    root = tmp_path / "repo" / "handbook"
    write_handbook(
        root,
        gitlab_fake.url,
        {
            "rotation.md": V2,
            "new-name.md": OTHER_V,
            "audit-logging.md": NEW_PLAN,
            "untouched.md": UNTOUCHED,
            "local-only.md": UNTOUCHED,  # never pushed to the merge request's branch
        },
    )
    env = {"GITLAB_TOKEN": gitlab_fake.token}
    yield Setup(gitlab_fake, root, mr, env)


def discussions(setup: Setup) -> list[dict[str, Any]]:
    return setup.mr.discussions
