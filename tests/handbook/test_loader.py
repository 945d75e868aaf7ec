"""Handbook discovery and loading: layouts, ids, skipped folders, bad files, lookups."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secplan.errors import NotFoundError, UsageError
from secplan.handbook import find_plan_files, load_handbook, plan_id, resolve_plan_path
from secplan.handbook.loader import MAX_FILE_BYTES
from tests.conftest import EXAMPLE_HANDBOOK


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def plan_text(title: str) -> str:
    return f"---\ntitle: {title}\n---\n\n## Work\n\n- [ ] Do {title}\n"


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    write(tmp_path / "index.md", "# Catalog\n")
    write(tmp_path / "alpha.md", plan_text("Alpha"))
    write(tmp_path / "beta.html.md", plan_text("Beta"))
    write(tmp_path / "gamma" / "index.md", plan_text("Gamma"))
    write(tmp_path / "delta" / "index.html.md", plan_text("Delta"))
    write(tmp_path / "team" / "epsilon.md", plan_text("Epsilon"))
    write(tmp_path / "notes.txt", "not markdown")
    for skipped in (".secplan", ".git", "node_modules", ".hidden"):
        write(tmp_path / skipped / "skipped.md", plan_text("Skipped"))
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("security-enclave.md", "security-enclave"),
        ("security-enclave.html.md", "security-enclave"),
        ("security-enclave/index.md", "security-enclave"),
        ("security-enclave/index.html.md", "security-enclave"),
        ("team/plan.md", "team/plan"),
        ("team/sub/index.md", "team/sub"),
    ],
)
def test_plan_ids(rel: str, expected: str) -> None:
    assert plan_id(rel) == expected


def test_discovers_every_layout_and_skips_the_rest(handbook: Path) -> None:
    hb = load_handbook(handbook)
    assert [p.id for p in hb.plans] == ["alpha", "beta", "delta", "gamma", "team/epsilon"]
    assert [p.title for p in hb.plans] == ["Alpha", "Beta", "Delta", "Gamma", "Epsilon"]
    assert hb.catalog_path == handbook / "index.md"
    assert hb.errors == []
    assert [p.relative_to(handbook).as_posix() for p in find_plan_files(handbook)] == [
        "alpha.md",
        "beta.html.md",
        "delta/index.html.md",
        "gamma/index.md",
        "team/epsilon.md",
    ]


@pytest.mark.parametrize("catalog", ["_index.md", "index.html.md"])
def test_other_catalog_page_names(tmp_path: Path, catalog: str) -> None:
    write(tmp_path / catalog, "# Catalog\n")
    write(tmp_path / "alpha.md", plan_text("Alpha"))
    hb = load_handbook(tmp_path)
    assert hb.catalog_path == tmp_path / catalog
    assert [p.id for p in hb.plans] == ["alpha"]


def test_get_by_id_and_by_path(handbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hb = load_handbook(handbook)
    assert hb.get("gamma").title == "Gamma"
    assert hb.get("gamma/index.md").title == "Gamma"
    assert hb.get("beta.html.md").title == "Beta"
    assert hb.get(str(handbook / "team" / "epsilon.md")).title == "Epsilon"
    monkeypatch.chdir(handbook / "team")
    assert hb.get("epsilon.md").title == "Epsilon"
    assert hb.get("../alpha.md").title == "Alpha"
    assert hb.get(str(handbook / "delta")).title == "Delta"
    assert hb.get("nope") is None
    assert hb.get("index") is None


def test_resolve_plan_path(handbook: Path) -> None:
    assert resolve_plan_path(handbook, "delta") == handbook / "delta" / "index.html.md"
    assert resolve_plan_path(handbook, "beta") == handbook / "beta.html.md"
    assert resolve_plan_path(handbook, "nope") is None


def test_bad_files_are_file_errors_and_the_rest_still_loads(tmp_path: Path) -> None:
    write(tmp_path / "good.md", plan_text("Good"))
    (tmp_path / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with (tmp_path / "huge.md").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    hb = load_handbook(tmp_path)
    assert [p.id for p in hb.plans] == ["good"]
    errors = {e.rel_path: e for e in hb.errors}
    assert set(errors) == {"latin1.md", "binary.md", "huge.md"}
    assert all(e.code == "SP100" for e in hb.errors)
    assert "UTF-8" in errors["latin1.md"].message and errors["latin1.md"].line == 2
    assert "binary" in errors["binary.md"].message
    assert "10 MB" in errors["huge.md"].message


def test_a_fifo_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    write(tmp_path / "good.md", plan_text("Good"))
    os.mkfifo(tmp_path / "pipe.md")
    hb = load_handbook(tmp_path)
    assert [p.id for p in hb.plans] == ["good"]
    assert [(e.rel_path, e.message) for e in hb.errors] == [("pipe.md", "not a regular file")]


def test_symlinks_leaving_the_root_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "handbook"
    write(outside / "secret.md", plan_text("Secret"))
    write(root / "real.md", plan_text("Real"))
    os.symlink(outside / "secret.md", root / "escape.md")
    os.symlink(outside, root / "escape-dir")
    os.symlink(root / "real.md", root / "alias.md")
    hb = load_handbook(root)
    assert sorted(p.id for p in hb.plans) == ["alias", "real"]
    refused = sorted((e.rel_path, e.code) for e in hb.errors)
    assert refused == [("escape-dir", "SP100"), ("escape.md", "SP100")]
    assert "outside the handbook" in hb.errors[0].message


def test_two_files_with_one_id_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "same.md", plan_text("One"))
    write(tmp_path / "same" / "index.md", plan_text("Two"))
    hb = load_handbook(tmp_path)
    assert [p.rel_path for p in hb.plans] == ["same.md"]
    assert [(e.rel_path, e.code) for e in hb.errors] == [("same/index.md", "SP100")]
    assert "already taken" in hb.errors[0].message


def test_paths_limit_what_is_parsed(handbook: Path) -> None:
    hb = load_handbook(handbook, paths=[handbook / "team", handbook / "alpha.md"])
    assert sorted(p.id for p in hb.plans) == ["alpha", "team/epsilon"]
    assert hb.catalog_path == handbook / "index.md"


def test_paths_outside_the_root_or_missing_are_user_errors(
    handbook: Path, tmp_path_factory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write(elsewhere / "x.md", plan_text("X"))
    with pytest.raises(UsageError, match="not inside the handbook"):
        load_handbook(handbook, paths=[elsewhere / "x.md"])
    with pytest.raises(NotFoundError):
        load_handbook(handbook, paths=[handbook / "missing.md"])
    with pytest.raises(NotFoundError):
        load_handbook(handbook / "missing-root")


def test_config_flavour_and_tracker_reach_the_parser(tmp_path: Path) -> None:
    write(tmp_path / "secplan.toml", 'anchor_flavour = "kramdown"\ntracker = "sec/work"\n')
    write(tmp_path / "p.md", "## 1. Goals & Scope\n\n- [ ] Covered #5\n")
    plan = load_handbook(tmp_path).plans[0]
    assert plan.sections[0].anchor == "goals--scope"
    assert plan.items[0].ref == "sec/work#5"


def test_plans_get_their_content_hash(handbook: Path) -> None:
    hb = load_handbook(handbook)
    hashes = {p.content_hash for p in hb.plans}
    assert len(hashes) == 5 and all(len(h) == 64 for h in hashes)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=4))
def test_arbitrary_bytes_never_raise(contents: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n, data in enumerate(contents):
            (root / f"p{n}.md").write_bytes(data)
        hb = load_handbook(root, use_cache=False)
        assert len(hb.plans) + len(hb.errors) == len(contents)
        assert all(e.code == "SP100" and e.line >= 1 for e in hb.errors)


def test_the_example_handbook_loads_cleanly() -> None:
    hb = load_handbook(EXAMPLE_HANDBOOK, use_cache=False)
    assert hb.errors == [] and len(hb.plans) >= 3
    assert hb.catalog_path is not None
    assert sum(len(plan.items) for plan in hb.plans) > 5
    for plan in hb.plans:
        assert plan.title and plan.sections
        assert not [d for d in plan.diagnostics if d.code in ("SP103", "SP106")]


def _mixed_handbook(root: Path) -> Path:
    """Copies of the example plans, with bad files and an id clash among them."""
    plans = sorted(p for p in EXAMPLE_HANDBOOK.rglob("*.md") if p.name != "index.md")
    for n in range(6):
        for plan in plans:
            rel = plan.relative_to(EXAMPLE_HANDBOOK)
            write(root / f"g{n}" / rel, plan.read_text(encoding="utf-8"))
    (root / "g2" / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    (root / "g4" / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    write(root / "same.md", plan_text("One"))
    write(root / "same" / "index.md", plan_text("Two"))
    return root


def test_parallel_parsing_gives_the_serial_result(tmp_path: Path) -> None:
    root = _mixed_handbook(tmp_path)
    serial = load_handbook(root, use_cache=False, jobs=1)
    parallel = load_handbook(root, use_cache=False, jobs=2)
    assert len(serial.plans) > 15 and len(serial.errors) == 3
    assert parallel.plans == serial.plans
    assert parallel.errors == serial.errors
    # Filling the cache in parallel, then reading it back, changes nothing either.
    load_handbook(root, jobs=2)
    warm = load_handbook(root, jobs=2)
    assert warm.plans == serial.plans and warm.errors == serial.errors


def test_parallel_parsing_of_the_corpora_gives_the_serial_result(corpora: Path) -> None:
    serial = load_handbook(corpora, use_cache=False, jobs=1)
    parallel = load_handbook(corpora, use_cache=False, jobs=2)
    assert parallel.plans == serial.plans
    assert parallel.errors == serial.errors


def test_small_handbooks_are_parsed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import secplan.handbook.parallel as parallel_module
    from secplan.handbook.parallel import PARALLEL_MIN_FILES, worker_count

    monkeypatch.delenv("SECPLAN_JOBS", raising=False)
    monkeypatch.setattr(parallel_module, "available_cores", lambda: 2)
    monkeypatch.setattr(parallel_module.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert worker_count(PARALLEL_MIN_FILES - 1, None) == 1
    assert worker_count(PARALLEL_MIN_FILES, None) == 2
    monkeypatch.setattr(parallel_module.os, "getloadavg", lambda: (1.2, 0.0, 0.0))
    assert worker_count(PARALLEL_MIN_FILES, None) == 1  # one core is busy elsewhere
    assert worker_count(10, 1) == 1
    assert worker_count(10, 2) == 2
    assert worker_count(1, 4) == 1
    monkeypatch.setenv("SECPLAN_JOBS", "3")
    assert worker_count(10, None) == 3


def test_no_worker_processes_falls_back_to_parsing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secplan.handbook.loader as loader_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no processes")

    monkeypatch.setattr(loader_module, "parse_parallel", refuse)
    root = _mixed_handbook(tmp_path)
    assert load_handbook(root, jobs=2).plans == load_handbook(root, use_cache=False).plans


def test_parallel_parsing_beside_other_threads_gives_the_serial_result(tmp_path: Path) -> None:
    # With other threads running (a web server), workers are fresh interpreters, not forks.
    import threading

    root = _mixed_handbook(tmp_path)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        parallel = load_handbook(root, use_cache=False, jobs=2)
    finally:
        stop.set()
        thread.join()
    serial = load_handbook(root, use_cache=False, jobs=1)
    assert parallel.plans == serial.plans and parallel.errors == serial.errors


def test_big_loads_freeze_the_plans_and_nothing_else(tmp_path: Path) -> None:
    import gc
    import weakref

    from secplan.handbook.loader import FREEZE_MIN_FILES

    for n in range(FREEZE_MIN_FILES):
        write(tmp_path / f"d{n // 100}" / f"p{n}.md", f"# Plan {n}\n\n- [ ] Item {n}\n")

    class Node:
        pass

    gc.disable()  # only the loader's own collection can find the cycle below
    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    gone = weakref.ref(cycle)
    del cycle
    gc.unfreeze()
    try:
        hb = load_handbook(tmp_path, use_cache=False, jobs=1)
        assert len(hb.plans) == FREEZE_MIN_FILES
        assert gone() is None  # someone else's cyclic garbage was collected, not frozen
        assert gc.get_freeze_count() > 10 * FREEZE_MIN_FILES
    finally:
        gc.unfreeze()
        gc.enable()
