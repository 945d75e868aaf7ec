"""Sync on the GitLab backend, where what counts is the HTTP requests the GitLab stand-in
receives: a no-op reads pages, not items; remote ids survive a run in secplan's store; faults
during a whole apply never make a second issue for an item."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from secplan.config import load_config
from secplan.store import Store
from secplan.sync.apply import apply_plans
from secplan.sync.desired import parse_marker
from secplan.sync.state import StoreState
from tests.gitlab_fake import FakeGitLab
from tests.sync.conftest import gitlab_tracker, load
from tests.sync.test_crash_and_concurrency import write_bulk_plan


def run(
    root: Path, fake: FakeGitLab, store: Store, timeout: float = 30.0, **kwargs: object
) -> tuple[int, list[str]]:
    """One ``apply`` as a new run would make it (a new tracker, the same store): the number of
    changes, and the requests it sent as ``METHOD path``."""
    tracker = gitlab_tracker(fake, store, timeout=timeout)
    mark = len(fake.requests)
    try:
        result = apply_plans(
            tracker,
            StoreState(store, tracker.identity),
            load(root),
            load_config(root),
            all_plans=True,
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        tracker.close()
    assert result.ok, result.failed
    with fake.lock:
        sent = [f"{r.method} {r.path}" for r in fake.requests[mark:]]
    return result.writes, sent


def writes(sent: list[str]) -> list[str]:
    return [r for r in sent if not r.startswith("GET ") and r != "POST graphql"]


def exactly_one_issue_per_item(fake: FakeGitLab, items: int) -> None:
    with fake.lock:
        keys = Counter(parse_marker(i.description) for i in fake.state.issues)
    assert None not in keys
    assert {k: n for k, n in keys.items() if n > 1} == {}
    assert len(keys) == items


def test_a_no_op_reads_pages_not_items(handbook_dir: Path, fake: FakeGitLab, sync_store: Store):
    run(handbook_dir, fake, sync_store, create_epic=True)
    changes, small = run(handbook_dir, fake, sync_store, create_epic=True)
    assert changes == 0 and writes(small) == []
    # Sixty more items in the same project: still one page of 100 for the listing, so the
    # no-op sends exactly the same requests. A per-item GET would show up here.
    write_bulk_plan(handbook_dir, 60)
    run(handbook_dir, fake, sync_store, create_epic=True)
    changes, big = run(handbook_dir, fake, sync_store, create_epic=True)
    assert changes == 0 and writes(big) == []
    assert Counter(big) == Counter(small)
    listings = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/issues")]
    assert listings and all(r.query.get("per_page") == ["100"] for r in listings)
    assert all(r.query.get("labels") == ["secplan::managed"] for r in listings)


def test_remote_ids_are_kept_in_the_store_between_runs(
    handbook_dir: Path, fake: FakeGitLab, sync_store: Store
):
    _, first = run(handbook_dir, fake, sync_store, create_epic=True)
    assert first.count("GET users") == 1  # @rin.sato resolved once
    # A second assignee: the next run (a new tracker) needs both ids and looks up only the
    # new user; rin.sato's id comes from the store.
    path = handbook_dir / "token-hardening.md"
    path.write_text(path.read_text("utf-8").replace("@rin.sato", "@rin.sato @alice"), "utf-8")
    changes, second = run(handbook_dir, fake, sync_store, create_epic=True)
    assert changes == 1 and len(writes(second)) == 1
    assert second.count("GET users") == 1
    with fake.lock:
        looked_up = [r.query["username"] for r in fake.requests if r.path == "users"]
        names = {u["id"]: u["username"] for u in fake.state.users.values()}
        assigned = [[names[u] for u in i.assignee_ids] for i in fake.state.issues]
    assert looked_up == [["rin.sato"], ["alice"]]
    assert sorted(a for a in assigned if a) == [["rin.sato", "alice"]]
    # the epic mode and the Epic work item type were probed once, on the first run
    assert sum("SecplanWorkItemTypes" in d for d in fake.graphql_documents) == 1


def test_faults_during_a_whole_apply_never_duplicate(
    handbook_dir: Path, fake: FakeGitLab, sync_store: Store
):
    write_bulk_plan(handbook_dir, 30)
    # Creations answered after the client gave up (they happened), 5xx bursts on creations and
    # listings (they did not), and rate limiting, all in one apply.
    fake.delay("POST", r"^projects/.+/issues$", 1.5, times=2)
    fake.fail("POST", r"^projects/.+/issues$", 502, times=3)
    fake.fail("GET", r"^projects/.+/issues$", 503, times=2)
    fake.fail("POST", r"^projects/.+/issues$", 429, headers={"Retry-After": "0"}, times=2)
    changes, sent = run(handbook_dir, fake, sync_store, timeout=0.5)
    exactly_one_issue_per_item(fake, 30 + 6)
    assert changes == 30 + 6 + 4  # issues and milestones, each once
    again, sent = run(handbook_dir, fake, sync_store)
    assert again == 0 and writes(sent) == []
    exactly_one_issue_per_item(fake, 30 + 6)


def test_a_no_op_run_writes_nothing_to_the_store_either(
    handbook_dir: Path, fake: FakeGitLab, sync_store: Store, tmp_path: Path
):
    import sqlite3

    run(handbook_dir, fake, sync_store, create_epic=True)
    db = tmp_path / "bookkeeping.db"
    watcher = sqlite3.connect(db)
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        changes, sent = run(handbook_dir, fake, sync_store, create_epic=True)
        assert changes == 0 and writes(sent) == []
        # no sync record, no cached id and no lock row written by a new run that finds
        # everything in place
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    finally:
        watcher.close()


def test_a_public_plan_under_a_confidential_epic_is_refused_with_a_choice(
    handbook_dir: Path, fake: FakeGitLab, sync_store: Store
):
    # The plan names an epic someone else keeps confidential, and is public itself.
    tracker = gitlab_tracker(fake, sync_store)
    epic = tracker.create_epic("appsec", "Their epic", "kept by hand", confidential=True)
    tracker.close()
    plan = handbook_dir / "token-hardening.md"
    text = plan.read_text("utf-8")
    plan.write_text(
        text.replace(
            "status: ready\n", f"status: ready\nconfidential: false\nepic: {epic.ref}\n", 1
        ),
        "utf-8",
    )
    tracker = gitlab_tracker(fake, sync_store)
    try:
        result = apply_plans(
            tracker,
            StoreState(sync_store, tracker.identity),
            load(handbook_dir),
            load_config(handbook_dir),
            all_plans=True,
        )
    finally:
        tracker.close()
    assert not result.ok
    refused = {change.item for change, _ in result.failed}
    assert len(refused) == 4 and {c.plan for c, _ in result.failed} == {"token-hardening"}
    for _change, message in result.failed:
        assert f"confidential epic {epic.ref}" in message, message
        # and the choice: keep the issues confidential, or make the epic public
        assert "Make the issue confidential" in message, message
        assert "make the epic non-confidential in GitLab" in message, message
    with fake.lock:
        assert not any("plan=token-hardening" in i.description for i in fake.state.issues)
        # the other plan went ahead
        assert sum("plan=scanner-rollout" in i.description for i in fake.state.issues) == 2
