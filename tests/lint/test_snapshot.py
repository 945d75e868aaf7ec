"""The check snapshot answers only with the output a full check would write.

Every run here is compared with a check that uses no cache at all, written by the ordinary
format writers. File and directory times are set forward after each edit and the runs happen
"an hour later", so the racy-clean rule does not hide the snapshot path: each edited file has
a stamp of its own even when the edit kept its size and landed in the same clock tick.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import secplan.handbook.listing as listing_module
import secplan.handbook.loader as loader_module
import secplan.lint.runner as runner
from secplan.handbook import load_handbook
from secplan.handbook.catalog import write_catalog
from secplan.lint.engine import CheckResult
from secplan.lint.formats import json_format, text
from secplan.lint.runner import CheckOptions, Target, run_check
from secplan.lint.snapshot import SNAPSHOT_FILE, Rendering
from tests.conftest import EXAMPLE_HANDBOOK
from tests.lint.test_incremental import _cold, _handbook, _plan, _toggle_thread

HOUR_NS = 3600 * 10**9
_clock = iter(range(1, 10**9))


def _touch(*paths: Path) -> None:
    """Give each path a modification time no earlier edit had."""
    for path in paths:
        if path.exists():
            ns = 10**18 + next(_clock) * 10**9
            os.utime(path, ns=(ns, ns))


@pytest.fixture(autouse=True)
def _an_hour_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "now_ns", lambda: time.time_ns() + HOUR_NS)
    monkeypatch.setattr(listing_module, "now_ns", lambda: time.time_ns() + HOUR_NS)


class Calls:
    """How often the full check ran (rather than the snapshot answering)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = 0
        real = runner.check_handbook

        def counted(*args: Any, **kw: Any) -> Any:
            self.full += 1
            return real(*args, **kw)

        monkeypatch.setattr(runner, "check_handbook", counted)


def _written(result: CheckResult, fmt: str) -> tuple[str, bool]:
    """The output as the format writers write it."""
    out = io.StringIO()
    (json_format.write if fmt == "json" else text.write)(result, out)
    return out.getvalue(), result.has_errors


def _expected(root: Path, fmt: str, **options: Any) -> tuple[str, bool]:
    return _written(_cold(root, **options), fmt)


def _output(root: Path, fmt: str, **options: Any) -> tuple[str, bool]:
    result = run_check([Target(root)], CheckOptions(rendering=Rendering(fmt), **options), root)
    if result.rendered is None:  # a handbook the snapshot cannot hold
        return _written(result, fmt)
    return b"".join(result.rendered[0]).decode(), result.has_errors


def _same_as_cold(root: Path, fmt: str = "json", **options: Any) -> str:
    got = _output(root, fmt, **options)
    assert got == _expected(root, fmt, **options)
    return got[0]


def _write(root: Path, name: str, body: str) -> None:
    path = root / f"{name}.md"
    new = not path.exists()
    path.write_text(body, "utf-8")
    _touch(path, *([root] if new else []))  # an edit in place leaves the folder as it was


@pytest.fixture
def hb(tmp_path: Path) -> Iterator[Path]:
    root = _handbook(tmp_path / "hb")
    _touch(*root.iterdir(), root)
    yield root


def test_a_body_edit_is_answered_by_the_snapshot(hb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_as_cold(hb)  # makes .secplan/: the root's listing changes once
    calls = Calls(monkeypatch)
    for fmt, more in (("json", "More text."), ("text", "Other text.")):
        _same_as_cold(hb, fmt)  # fills the snapshot of this format
        calls.full = 0
        _same_as_cold(hb, fmt)
        _write(hb, "c", _plan("c", link="missing.md") + f"\n{more}\n")
        out = _same_as_cold(hb, fmt)
        assert calls.full == 0, "the snapshot answered both runs"
        assert "missing.md" in out


def test_an_anchor_others_link_goes_to_the_full_check(
    hb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_as_cold(hb)
    _same_as_cold(hb)
    calls = Calls(monkeypatch)
    # b links a.md#goal: a's anchors are read by another plan.
    _write(hb, "a", _plan("a").replace("{#goal}", "{#aim}"))
    assert "SP203" in _same_as_cold(hb)
    assert calls.full == 1
    _write(hb, "a", _plan("a") + "\nMore.\n")  # anchors back, and another body edit
    _same_as_cold(hb)
    assert calls.full == 2  # b's output changes again
    _write(hb, "a", _plan("a") + "\nMore, again.\n")
    _same_as_cold(hb)
    assert calls.full == 2


def test_a_changed_catalog_row_goes_to_the_full_check(
    hb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_as_cold(hb)
    calls = Calls(monkeypatch)
    _write(hb, "a", _plan("a", title="A renamed"))
    assert "SP001" in _same_as_cold(hb)  # the catalog table is out of date
    assert calls.full == 1


def test_new_deleted_and_unreadable_files_go_to_the_full_check(
    hb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_as_cold(hb)
    _same_as_cold(hb)
    calls = Calls(monkeypatch)
    before = _same_as_cold(hb)
    assert calls.full == 0
    _write(hb, "missing", _plan("missing"))
    assert _same_as_cold(hb) != before  # c's link to missing.md resolves now
    (hb / "missing.md").unlink()
    _touch(hb)
    assert _same_as_cold(hb) == before
    assert calls.full == 2
    (hb / "c.md").write_bytes(b"\xff\xfe not UTF-8")
    _touch(hb / "c.md")
    _same_as_cold(hb)


def test_threads_options_and_configuration_are_inputs(
    hb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(hb, "a", _plan("a", status="review"))
    plain = _same_as_cold(hb)
    assert _same_as_cold(hb, require_ready=True) != plain
    assert _same_as_cold(hb, ignore=["SP203"]) != plain
    _toggle_thread(hb, "a")
    assert "SP501" in _same_as_cold(hb)
    (hb / "secplan.toml").write_text('[severity]\nSP203 = "info"\n', "utf-8")
    _touch(hb / "secplan.toml", hb)
    assert '"severity": "info"' in _same_as_cold(hb)


def test_a_damaged_snapshot_is_a_miss(hb: Path) -> None:
    first = _same_as_cold(hb)
    damage = [
        "UPDATE files SET stamp = 'x', piece = x'00ff'",  # patches of every file
        "UPDATE meta SET offsets = '[0, 1]'",
        "UPDATE meta SET data = '[]'",
        "UPDATE meta SET reads = 'null'",
        "UPDATE meta SET rels = rels || char(0)",
        "UPDATE meta SET data = '{'",
        "DELETE FROM files",
    ]
    for statement in damage:
        with sqlite3.connect(hb / SNAPSHOT_FILE) as db:
            db.execute(statement)
        assert _same_as_cold(hb) == first, statement
    (hb / SNAPSHOT_FILE).write_bytes(b"garbage" * 1000)
    assert _same_as_cold(hb) == first
    assert _same_as_cold(hb) == first


def test_the_example_handbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    _touch(*root.rglob("*"), root)
    _same_as_cold(root)
    calls = Calls(monkeypatch)
    for fmt in ("json", "text"):
        _same_as_cold(root, fmt)
        calls.full = 0
        _same_as_cold(root, fmt)
        assert calls.full == 0


# --- random edits ------------------------------------------------------------------------------

_NAMES = ["a", "b", "c", "d"]
_LINKS = ["a.md", "b.md#goal", "c.md#aim", "d.md", "#goal", "missing.md", "sub/", "a.md#top"]


def _edit(root: Path, name: str, title: str, status: str, link: str, anchor: str) -> None:
    body = _plan(name, title=title, status=status, link=link).replace("{#goal}", f"{{#{anchor}}}")
    _write(root, name, body)


def _append(root: Path, name: str) -> None:
    path = root / f"{name}.md"
    if path.exists():
        _write(root, name, path.read_text("utf-8") + "\nA paragraph.\n")


def _delete(root: Path, name: str) -> None:
    (root / f"{name}.md").unlink(missing_ok=True)
    _touch(root)


def _catalog(root: Path) -> None:
    write_catalog(load_handbook(root, use_cache=False))
    _touch(root / "index.md", root)


names = st.sampled_from(_NAMES)
edits: st.SearchStrategy[tuple[Callable[..., None], tuple[Any, ...]]] = st.one_of(
    st.tuples(
        st.just(_edit),
        st.tuples(
            names,
            st.sampled_from(["One", "Two"]),
            st.sampled_from(["draft", "review", "ready"]),
            st.sampled_from(_LINKS),
            st.sampled_from(["goal", "aim"]),
        ),
    ),
    st.tuples(st.just(_append), st.tuples(names)),
    st.tuples(st.just(_delete), st.tuples(names)),
    st.tuples(st.just(_toggle_thread), st.tuples(names)),
    st.tuples(st.just(_catalog), st.just(())),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(edits, min_size=1, max_size=6), fmt=st.sampled_from(["json", "text"]))
def test_random_edits_snapshot_equals_cold(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[Callable[..., None], Any]],
    fmt: str,
) -> None:
    root = _handbook(tmp_path_factory.mktemp("edits") / "hb")
    _touch(*root.iterdir(), root)
    _same_as_cold(root, fmt)
    for edit, args in steps:
        edit(root, *args)
        _same_as_cold(root, fmt)
        _same_as_cold(root, fmt)  # the snapshot the previous run left
