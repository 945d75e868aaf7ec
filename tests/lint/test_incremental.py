"""The findings cache is never stale: a warm check equals a cold one after any edit."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import secplan.handbook.listing as listing
import secplan.lint.incremental as incremental
from secplan.config import load_config
from secplan.handbook import load_handbook
from secplan.handbook.catalog import END_MARKER, START_MARKER, write_catalog
from secplan.lint.engine import CheckResult, Engine, Selector
from secplan.lint.findings_cache import FINDINGS_FILE
from secplan.lint.runner import CheckOptions, Target, run_check
from secplan.lint.threads import DEFAULT_DATABASE
from secplan.store import open_store
from secplan.store.reviews import create_thread, resolve_thread
from tests.conftest import EXAMPLE_HANDBOOK

PLAN = """---
title: {title}
status: {status}
---
# {title}

## Goal {{#goal}}

Why this plan exists. See [the other plan]({link}) and [a file](assets/diagram.txt).

## Work

- [ ] Do the work <!-- id: work-{name} -->
"""


def _plan(name: str, *, title: str = "", status: str = "draft", link: str = "b.md#goal") -> str:
    return PLAN.format(title=title or name.upper(), status=status, link=link, name=name)


def _handbook(root: Path) -> Path:
    root.mkdir()
    (root / "index.md").write_text(f"# Plans\n\n{START_MARKER}\n{END_MARKER}\n", encoding="utf-8")
    (root / "a.md").write_text(_plan("a"), encoding="utf-8")
    (root / "b.md").write_text(_plan("b", link="a.md#goal"), encoding="utf-8")
    (root / "c.md").write_text(_plan("c", link="missing.md"), encoding="utf-8")
    write_catalog(load_handbook(root, use_cache=False))
    return root


def _run(root: Path, **options: Any) -> CheckResult:
    return run_check([Target(root)], CheckOptions(**options), cwd=root)


def _cold(root: Path, **options: Any) -> CheckResult:
    """The same check without any cache: load every plan, run every rule."""
    from secplan.lint.threads import load_open_threads

    config = load_config(root)
    selector = Selector.build(options.get("select", []), options.get("ignore", []), config.ignore)
    handbook = load_handbook(root, config, use_cache=False)
    return Engine(config, selector).check(
        handbook,
        require_ready=options.get("require_ready", False),
        open_threads=load_open_threads(root, None),
        cwd=root,
    )


def _shape(result: CheckResult) -> list[Any]:
    return [(f.to_dict(), f.rel_path) for f in result.findings] + [
        result.plans_checked,
        result.files_unreadable,
    ]


def _same_as_cold(root: Path, **options: Any) -> list[Any]:
    warm = _shape(_run(root, **options))
    assert warm == _shape(_cold(root, **options))
    return warm


def _codes(result: list[Any], rel_path: str) -> list[str]:
    return sorted(f["code"] for f, rel in result[:-2] if rel == rel_path)


class Counter:
    """Counts the plans the incremental check rebuilds and re-lints."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built: list[str] = []
        self.linted: list[str] = []
        real_build = incremental.build_plans
        real_check = Engine.check_plan

        def build(config: Any, slots: list[Any], *args: Any, **kw: Any) -> None:
            self.built.extend(s.rel_path for s in slots)
            real_build(config, slots, *args, **kw)

        def check_plan(engine: Engine, plan: Any, ctx: Any, *args: Any, **kw: Any) -> Any:
            if ctx.trace is not None:  # the incremental check's, not the cold one's
                self.linted.append(plan.rel_path)
            return real_check(engine, plan, ctx, *args, **kw)

        monkeypatch.setattr(incremental, "build_plans", build)
        monkeypatch.setattr(Engine, "check_plan", check_plan)

    def reset(self) -> None:
        self.built.clear()
        self.linted.clear()


def test_a_warm_check_rebuilds_and_relints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "RACY_NS", 0)  # trust the fresh directories' listings at once
    root = _handbook(tmp_path / "hb")
    counter = Counter(monkeypatch)
    first = _same_as_cold(root)
    assert sorted(counter.linted) == ["a.md", "b.md", "c.md"]
    assert (root / FINDINGS_FILE).is_file()
    _run(root)  # the first run made .secplan/, a change to the root's listing
    counter.reset()
    stamp = (root / FINDINGS_FILE).stat().st_mtime_ns
    assert _same_as_cold(root) == first
    assert counter.built == [] and counter.linted == []
    assert (root / FINDINGS_FILE).stat().st_mtime_ns == stamp  # a no-op run writes nothing


def test_editing_one_plan_relints_it_and_only_its_dependents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _handbook(tmp_path / "hb")
    _run(root)
    counter = Counter(monkeypatch)
    # c's body changes, its anchors do not: nobody else depends on that.
    (root / "c.md").write_text(_plan("c", link="missing.md") + "\nMore text.\n", "utf-8")
    _same_as_cold(root)
    assert counter.linted == ["c.md"]
    counter.reset()
    # a's anchor `goal` goes away: b links to a.md#goal, so b is checked again and now warns.
    (root / "a.md").write_text(_plan("a").replace("{#goal}", "{#aim}"), "utf-8")
    result = _same_as_cold(root)
    assert sorted(counter.linted) == ["a.md", "b.md"]
    assert "SP203" in _codes(result, "b.md")


def test_plans_without_an_epic_do_not_depend_on_every_other_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SP401's hint reads the catalog page's hand-written table; a generated catalog has none,
    and matching a table's rows by link needs the plan ids, not every plan rebuilt."""
    root = _handbook(tmp_path / "hb")
    for name in ("a", "b", "c"):
        (root / f"{name}.md").write_text(_plan(name, status="review"), "utf-8")
    _catalog(root)
    _run(root)
    counter = Counter(monkeypatch)
    (root / "c.md").write_text(_plan("c", status="review") + "\nMore text.\n", "utf-8")
    assert "SP401" in _codes(_same_as_cold(root), "c.md")
    assert counter.linted == ["c.md"] and counter.built == ["c.md"]
    # The same with a hand-written table that links every plan (before `secplan adopt`).
    rows = "".join(f"| [{n.upper()}]({n}.md) | |\n" for n in ("a", "b", "c"))
    (root / "index.md").write_text(f"# Plans\n\n| Plan | Epic |\n| --- | --- |\n{rows}", "utf-8")
    _run(root)
    counter.reset()
    (root / "b.md").write_text(_plan("b", status="review") + "\nMore text.\n", "utf-8")
    _same_as_cold(root)
    assert counter.linted == ["b.md"] and counter.built == ["b.md"]


def test_a_new_or_deleted_link_target_changes_its_linkers(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    assert "SP203" in _codes(_same_as_cold(root), "c.md")
    (root / "missing.md").write_text(_plan("missing"), "utf-8")
    assert "SP203" not in _codes(_same_as_cold(root), "c.md")
    (root / "missing.md").unlink()
    assert "SP203" in _codes(_same_as_cold(root), "c.md")
    # A link to a folder that holds no plan: its existence is an input too.
    (root / "c.md").write_text(_plan("c", link="site/"), "utf-8")
    assert "SP203" in _codes(_same_as_cold(root), "c.md")
    (root / "site").mkdir()
    assert "SP203" not in _codes(_same_as_cold(root), "c.md")


def test_a_reused_file_listing_still_sees_new_and_deleted_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "RACY_NS", 0)
    walks: list[Path] = []
    real_discover = listing.discover
    monkeypatch.setattr(
        listing, "discover", lambda root, **kw: walks.append(root) or real_discover(root, **kw)
    )
    root = _handbook(tmp_path / "hb")
    (root / "sub").mkdir()
    _same_as_cold(root)  # makes .secplan/: the root's listing changed
    _same_as_cold(root)
    _same_as_cold(root)
    assert len(walks) == 2  # the third run reused the listing
    (root / "sub" / "d.md").write_text(_plan("d", link="../a.md#goal"), "utf-8")
    assert "sub/d.md" in {rel for _, rel in _same_as_cold(root)[:-2]}
    (root / "sub" / "d.md").unlink()
    assert "sub/d.md" not in {rel for _, rel in _same_as_cold(root)[:-2]}
    assert len(walks) == 4


def test_the_catalog_page_and_catalog_rows_are_inputs(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    assert "SP001" not in _codes(_same_as_cold(root), "index.md")
    (root / "a.md").write_text(_plan("a", title="A renamed"), "utf-8")
    assert "SP001" in _codes(_same_as_cold(root), "index.md")
    write_catalog(load_handbook(root, use_cache=False))
    assert "SP001" not in _codes(_same_as_cold(root), "index.md")
    page = (root / "index.md").read_text("utf-8")
    (root / "index.md").write_text(page.replace("A renamed", "Someone else"), "utf-8")
    assert "SP001" in _codes(_same_as_cold(root), "index.md")


def test_review_threads_are_inputs(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    (root / "a.md").write_text(_plan("a", status="review"), "utf-8")
    assert "SP501" not in _codes(_same_as_cold(root), "a.md")
    store = open_store(root)
    try:
        with store.session() as session:
            thread = create_thread(session, "a", "goal", "Goal", "ann", "Why?").id
        assert (root / DEFAULT_DATABASE).is_file()
        assert "SP501" in _codes(_same_as_cold(root), "a.md")
        with store.session() as session:
            resolve_thread(session, thread, "bob")
    finally:
        store.engine.dispose()
    assert "SP501" not in _codes(_same_as_cold(root), "a.md")


def test_configuration_and_options_are_inputs(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    plain = _same_as_cold(root)
    assert _same_as_cold(root, require_ready=True) != plain
    assert _same_as_cold(root, ignore=["SP203"]) != plain
    (root / "secplan.toml").write_text('[severity]\nSP203 = "info"\n', "utf-8")
    severities = {f["severity"] for f, _ in _same_as_cold(root)[:-2] if f["code"] == "SP203"}
    assert severities == {"info"}


def test_a_damaged_findings_cache_is_a_miss(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    first = _same_as_cold(root)
    import sqlite3

    with sqlite3.connect(root / FINDINGS_FILE) as db:
        db.execute("UPDATE plans SET findings = 'not json', deps = '[[1'")
        db.execute("UPDATE handbook SET findings = '{'")
    assert _same_as_cold(root) == first
    (root / FINDINGS_FILE).write_bytes(b"garbage" * 1000)
    assert _same_as_cold(root) == first
    assert _same_as_cold(root) == first


def test_the_example_handbook_warm_equals_cold(tmp_path: Path) -> None:
    root = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    first = _same_as_cold(root)
    assert _same_as_cold(root) == first
    assert _same_as_cold(root, require_ready=True) != first


# --- random edits ------------------------------------------------------------------------------

_NAMES = ["a", "b", "c", "d"]
_LINKS = ["a.md", "b.md#goal", "c.md#aim", "d.md", "#goal", "missing.md", "sub/", "a.md#top"]


def _write(root: Path, name: str, title: str, status: str, link: str, anchor: str) -> None:
    text = _plan(name, title=title, status=status, link=link).replace("{#goal}", f"{{#{anchor}}}")
    (root / f"{name}.md").write_text(text, "utf-8")


def _delete(root: Path, name: str) -> None:
    (root / f"{name}.md").unlink(missing_ok=True)


def _toggle_thread(root: Path, name: str) -> None:
    store = open_store(root)
    try:
        with store.session() as session:
            create_thread(session, name, "goal", "Goal", "ann", "?")
    finally:
        store.engine.dispose()


def _config(root: Path, severity: str) -> None:
    (root / "secplan.toml").write_text(f'[severity]\nSP202 = "{severity}"\n', "utf-8")


def _catalog(root: Path) -> None:
    write_catalog(load_handbook(root, use_cache=False))


names = st.sampled_from(_NAMES)
edits: st.SearchStrategy[tuple[Callable[..., None], tuple[Any, ...]]] = st.one_of(
    st.tuples(
        st.just(_write),
        st.tuples(
            names,
            st.sampled_from(["One", "Two"]),
            st.sampled_from(["draft", "review", "ready"]),
            st.sampled_from(_LINKS),
            st.sampled_from(["goal", "aim"]),
        ),
    ),
    st.tuples(st.just(_delete), st.tuples(names)),
    st.tuples(st.just(_toggle_thread), st.tuples(names)),
    st.tuples(st.just(_config), st.tuples(st.sampled_from(["info", "error"]))),
    st.tuples(st.just(_catalog), st.just(())),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(edits, min_size=1, max_size=6))
def test_random_edits_warm_equals_cold(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[Callable[..., None], Any]]
) -> None:
    root = _handbook(tmp_path_factory.mktemp("edits") / "hb")
    _same_as_cold(root)
    for edit, args in steps:
        edit(root, *args)
        _same_as_cold(root)


# --- inputs from beside the plan and from the tracker --------------------------------------------

KEP_README = "# KEP-1: Rotate things\n\n## Summary\n\nWhy.\n\n## Design Details\n\nHow.\n"
KEP_YAML = """\
title: Rotate things
kep-number: 1
authors:
  - "@amara"
owning-sig: sig-auth
status: {status}
"""


def test_a_keps_metadata_file_is_an_input(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    kep = root / "keps" / "1-rotate"
    kep.mkdir(parents=True)
    (kep / "README.md").write_text(KEP_README, "utf-8")
    (kep / "kep.yaml").write_text(KEP_YAML.format(status="provisional"), "utf-8")
    first = _same_as_cold(root, require_ready=True)
    # Only kep.yaml changes: the README's bytes (and so its parse cache key) stay the same.
    (kep / "kep.yaml").write_text(KEP_YAML.format(status="no-such-status"), "utf-8")
    second = _same_as_cold(root, require_ready=True)
    assert _codes(second, "keps/1-rotate/README.md") != _codes(first, "keps/1-rotate/README.md")


def test_status_words_of_the_configuration_are_inputs(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    (root / "a.md").write_text(_plan("a", status="triaged"), "utf-8")
    unmapped = _codes(_same_as_cold(root), "a.md")
    assert "SP102" in unmapped
    (root / "secplan.toml").write_text('statuses = {triaged = "review"}\n', "utf-8")
    assert "SP102" not in _codes(_same_as_cold(root), "a.md")
    (root / "secplan.toml").write_text('statuses = {triaged = "nonsense"}\n', "utf-8")
    # A bad mapping is a configuration error, the same warm and cold.
    with pytest.raises(Exception) as warm_error:
        _run(root)
    with pytest.raises(Exception) as cold_error:
        _cold(root)
    assert str(warm_error.value) == str(cold_error.value)


def test_the_trackers_epics_are_inputs(tmp_path: Path) -> None:
    from secplan.lint.threads import load_known_epics, load_open_threads
    from tests.conftest import run_cli

    root = _handbook(tmp_path / "hb")
    text = _plan("a", status="review").replace("status: review", "status: review\nepic: sec&1")
    (root / "a.md").write_text(text, "utf-8")
    created = run_cli("epic", "create", "sec", "Other epic", "--root", str(root))
    assert created.returncode == 0, created.stderr  # the tracker now has sec&1 ...

    def cold() -> list[Any]:
        config = load_config(root)
        return _shape(
            Engine(config, Selector.build([], [], config.ignore)).check(
                load_handbook(root, config, use_cache=False),
                open_threads=load_open_threads(root, None),
                known_epics=load_known_epics(root, None),
                cwd=root,
            )
        )

    warm = _shape(_run(root))
    assert warm == cold() and "SP404" not in _codes(warm, "a.md")
    text = text.replace("epic: sec&1", "epic: sec&2")
    (root / "a.md").write_text(text, "utf-8")
    warm = _shape(_run(root))
    assert warm == cold() and "SP404" in _codes(warm, "a.md")
    created = run_cli("epic", "create", "sec", "Second epic", "--root", str(root))
    assert created.returncode == 0, created.stderr  # ... and now sec&2: only the tracker changed
    warm = _shape(_run(root))
    assert warm == cold() and "SP404" not in _codes(warm, "a.md")


def test_a_hand_written_catalog_table_is_an_input(tmp_path: Path) -> None:
    root = _handbook(tmp_path / "hb")
    (root / "a.md").write_text(_plan("a", status="review"), "utf-8")
    table = "# Plans\n\n| Plan | Epic |\n| --- | --- |\n| [A](a.md) | [{0}]({1}) |\n"
    url = "https://gitlab.com/groups/sec/-/epics/{}"
    (root / "index.md").write_text(table.format("sec&5", url.format(5)), "utf-8")

    def hint(result: list[Any]) -> list[str]:
        return [f["message"] for f, rel in result[:-2] if rel == "a.md" and f["code"] == "SP401"]

    assert "epic sec&5: `secplan adopt`" in hint(_same_as_cold(root))[0]
    # Only the catalog page's table changes (the plan does not): SP401's hint follows it.
    (root / "index.md").write_text(table.format("sec&6", url.format(6)), "utf-8")
    assert "epic sec&6: `secplan adopt`" in hint(_same_as_cold(root))[0]


# --- big handbooks: plans built a batch at a time and dropped once checked ---------------------


def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """One plan per batch: every link to a later plan waits for it; every parse result and
    every file's bytes go the way a big handbook's do (written early, read again)."""
    import secplan.handbook.cache as cache_module
    import secplan.handbook.loader as loader_module

    monkeypatch.setattr(incremental, "BATCH", 1)
    monkeypatch.setattr(cache_module, "FLUSH_ENTRIES", 1)
    monkeypatch.setattr(loader_module, "KEEP_BYTES", 0)


def test_in_batches_the_example_handbook_warm_equals_cold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(monkeypatch)
    root = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    first = _same_as_cold(root)
    assert _same_as_cold(root) == first
    assert _same_as_cold(root, require_ready=True) != first


def test_in_batches_a_link_to_a_later_plans_anchor_is_judged_once_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(monkeypatch)
    root = _handbook(tmp_path / "hb")
    # a.md (first) links to c.md's anchors: c is built two batches later.
    (root / "a.md").write_text(_plan("a", link="c.md#goal"), "utf-8")
    assert "SP203" not in _codes(_same_as_cold(root), "a.md")
    (root / "a.md").write_text(_plan("a", link="c.md#nowhere"), "utf-8")
    assert "SP203" in _codes(_same_as_cold(root), "a.md")


def test_a_cold_check_holds_a_batch_of_plans_not_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from secplan.model import Plan

    monkeypatch.setattr(incremental, "BATCH", 2)
    root = tmp_path / "hb"
    root.mkdir()
    (root / "index.md").write_text(f"# Plans\n\n{START_MARKER}\n{END_MARKER}\n", "utf-8")
    for n in range(12):  # each links to the next file (no anchor read: nothing waits)
        (root / f"p{n:02d}.md").write_text(_plan(f"p{n:02d}", link=f"p{n + 1:02d}.md"), "utf-8")
    alive: list[int] = []
    real_check = Engine.check_plan

    def check_plan(engine: Engine, plan: Any, ctx: Any, *args: Any, **kw: Any) -> Any:
        # this handbook's plans only: other tests of the same process may keep theirs
        alive.append(sum(isinstance(o, Plan) and root in o.path.parents for o in gc.get_objects()))
        return real_check(engine, plan, ctx, *args, **kw)

    monkeypatch.setattr(Engine, "check_plan", check_plan)
    result = _run(root)
    assert result.plans_checked == 12
    assert alive and max(alive) <= 2  # one batch
    assert _shape(result) == _shape(_cold(root))


def test_in_batches_a_hand_written_catalog_table_is_an_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SP401's hint reads other plans by title: dropped ones are built again when asked for.
    _small_batches(monkeypatch)
    test_a_hand_written_catalog_table_is_an_input(tmp_path)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(edits, min_size=1, max_size=5))
def test_in_batches_random_edits_warm_equals_cold(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[Callable[..., None], Any]],
) -> None:
    _small_batches(monkeypatch)
    root = _handbook(tmp_path_factory.mktemp("batches") / "hb")
    _same_as_cold(root)
    for edit, args in steps:
        edit(root, *args)
        _same_as_cold(root)
