"""Exact output of ``secplan plan``, ``coverage``, ``status`` and ``issue list`` (text and JSON).

The handbook is ``tests/fixtures/sync/basic`` after a first ``apply --create-epic`` and a few
edits, so every kind of line shows up: creates, a tick that closes an issue, an edited item, a
ticked item without an issue, closed and open issues. Timestamps are replaced by ``<time>``.
Regenerate after an intended change with
``SECPLAN_UPDATE_SNAPSHOTS=1 pytest tests/cli/test_sync_snapshots.py``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests import snapshot
from tests.conftest import FIXTURES, run_cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?"
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snapshots") / "handbook"
    shutil.copytree(FIXTURES / "sync" / "basic", root)
    first = run_cli("apply", "--create-epic", "--root", str(root))
    assert first.returncode == 0, first.stderr
    closed = run_cli("issue", "close", "appsec/planning#1", "--note", "done", "--root", str(root))
    assert closed.returncode == 0, closed.stderr
    tokens, scanner = root / "token-hardening.md", root / "scanner-rollout.md"
    edit(scanner, "- [ ] Write the bypass runbook", "- [x] Write the bypass runbook")
    edit(scanner, "for two weeks, then tune", "for three weeks, then tune")
    edit(
        tokens,
        "## Enforcement\n",
        "## Enforcement\n\n- [ ] Revoke unused deploy keys %Enforce\n"
        "- [x] Announce the policy in the engineering channel\n",
    )
    return root


def normalise(text: str, root: Path) -> str:
    """Timestamps and the scratch directory are the only parts that change between runs."""
    return TIMESTAMP.sub("<time>", text.replace(str(root), "<root>"))


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize(
    "command",
    [("plan",), ("coverage",), ("status",), ("issue", "list", "--state", "all")],
    ids=["plan", "coverage", "status", "issue-list"],
)
def test_output_snapshot(handbook: Path, command: tuple[str, ...], output_format: str) -> None:
    result = run_cli(*command, "--format", output_format, "--root", str(handbook))
    assert result.returncode == 0, result.stderr
    name = f"sync-{'-'.join(command[:2]) if command[0] == 'issue' else command[0]}"
    ext = "json" if output_format == "json" else "txt"
    snapshot.assert_snapshot(SNAPSHOTS, f"{name}.{ext}", normalise(result.stdout, handbook))


def test_normalising_only_touches_timestamps(handbook: Path) -> None:
    sample = "created 2027-03-01T10:20:30.123456+00:00 at 2027-03-01 10:20, due 2027-03-19"
    assert normalise(sample, handbook) == "created <time> at <time>, due 2027-03-19"
