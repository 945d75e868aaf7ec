"""The parse cache: hits, the stat index and its racy rule, corrupt data, unwritable and
symlinked locations, pruning, and never pickle."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import secplan.handbook.loader as loader_module
from secplan.handbook import load_handbook
from secplan.handbook.cache import CACHE_FILE, RACY_NS, FileStamp, IndexRow, PlanCache, cache_key
from secplan.handbook.serialize import plan_from_data, plan_to_data
from secplan.markdown import parse_plan
from tests.conftest import FIXTURES, run_cli

PLAN = (FIXTURES / "parser" / "full-plan.md").read_text(encoding="utf-8")
HOUR_NS = 3600 * 10**9


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    (tmp_path / "full.md").write_text(PLAN, encoding="utf-8")
    (tmp_path / "other.md").write_text("---\ntitle: Other\n---\n- [ ] x\n", encoding="utf-8")
    return tmp_path


def query(root: Path, sql: str, *args: object) -> list[tuple]:  # type: ignore[type-arg]
    db = sqlite3.connect(root / CACHE_FILE)
    try:
        with db:
            return db.execute(sql, args).fetchall()
    finally:
        db.close()


def entries(root: Path) -> dict[str, str]:
    if not (root / CACHE_FILE).exists():
        return {}
    return dict(query(root, "SELECT key, data FROM plans"))


def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads from now on happen an hour after the files were written (none is racy)."""
    monkeypatch.setattr(loader_module, "now_ns", lambda: time.time_ns() + HOUR_NS)


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return reads


def test_round_trip_is_lossless() -> None:
    plan = parse_plan(
        PLAN + "\n", plan_id="p", path=Path("/h/p.md"), rel_path="p.md", content_hash="abc"
    )
    plan.front_matter["odd"] = {1: {"a", "b"}, "$x": b"\x00bytes", "when": plan.milestones[0].due}
    data = json.loads(json.dumps(plan_to_data(plan)))
    again = plan_from_data(data, plan_id="p", path=Path("/h/p.md"), rel_path="p.md")
    assert again == plan


def test_second_load_comes_from_the_cache(handbook: Path) -> None:
    first = load_handbook(handbook)
    assert len(entries(handbook)) == 2
    assert (handbook / ".secplan" / "cache" / ".gitignore").read_text() == "*\n"
    cache = PlanCache(handbook)
    plan = first.by_id()["full"]
    key = cache_key(plan.content_hash, "gitlab", None, None)
    cached = cache.get(key, plan_id="full", path=plan.path, rel_path=plan.rel_path)
    assert cached == plan and cache.hits == 1
    second = load_handbook(handbook)
    assert second.plans == first.plans


def test_cached_results_are_used_not_reparsed(handbook: Path) -> None:
    load_handbook(handbook)
    # Doctor the cache entry: if the loader returns the doctored title, it read the cache.
    for key, data in entries(handbook).items():
        if json.loads(data)["title"] == "Other":
            doctored = data.replace('"title":"Other"', '"title":"From cache"')
            query(handbook, "UPDATE plans SET data = ? WHERE key = ?", doctored, key)
    assert load_handbook(handbook).by_id()["other"].title == "From cache"
    assert load_handbook(handbook, use_cache=False).by_id()["other"].title == "Other"


def test_files_with_the_same_bytes_all_come_from_the_cache(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("copy-a.md", "copy-b.md"):
        (handbook / name).write_bytes((handbook / "other.md").read_bytes())
    first = load_handbook(handbook)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(loader_module, "parse_job", no_parsing)
    second = load_handbook(handbook)
    assert [p.id for p in second.plans] == [p.id for p in first.plans]
    assert len(second.plans) == 4


def test_unchanged_files_are_recognised_by_stat_alone(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later(monkeypatch)
    first = load_handbook(handbook)
    reads = count_reads(monkeypatch)
    assert load_handbook(handbook).plans == first.plans
    assert reads == []  # neither file was read again
    (handbook / "other.md").write_text("---\ntitle: Changed\n---\n", encoding="utf-8")
    assert load_handbook(handbook).by_id()["other"].title == "Changed"
    assert reads == ["other.md"]


def test_same_size_and_mtime_but_new_content_is_reparsed(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later(monkeypatch)
    path = handbook / "other.md"
    load_handbook(handbook)
    before = path.stat()
    path.write_text("---\ntitle: Later\n---\n- [ ] x\n", encoding="utf-8")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert load_handbook(handbook).by_id()["other"].title == "Later"


def test_a_racily_clean_file_is_hashed_again(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file system whose ctime and inode say nothing: only size and mtime are compared, so
    # a same-size rewrite in the recorded mtime tick is caught by the content hash alone.
    monkeypatch.setattr(
        loader_module.FileStamp,
        "of",
        classmethod(lambda cls, st: cls(st.st_size, st.st_mtime_ns, st.st_mtime_ns, 0)),
    )
    path = handbook / "other.md"
    load_handbook(handbook)  # written just now: recorded as racily clean
    mtime = path.stat().st_mtime_ns
    path.write_text("---\ntitle: Later\n---\n- [ ] x\n", encoding="utf-8")
    os.utime(path, ns=(mtime, mtime))
    assert load_handbook(handbook).by_id()["other"].title == "Later"


def test_the_racy_rule() -> None:
    stamp = FileStamp(size=10, mtime_ns=5 * HOUR_NS, ctime_ns=5 * HOUR_NS, ino=7)
    recorded_late = IndexRow(stamp, "h", checked_ns=stamp.mtime_ns + RACY_NS)
    recorded_soon = IndexRow(stamp, "h", checked_ns=stamp.mtime_ns + RACY_NS - 1)
    assert PlanCache.known_hash(recorded_late, stamp) == "h"
    assert PlanCache.known_hash(recorded_soon, stamp) is None
    assert PlanCache.known_hash(recorded_late, stamp._replace(size=11)) is None
    assert PlanCache.known_hash(recorded_late, stamp._replace(ctime_ns=6 * HOUR_NS)) is None
    assert PlanCache.known_hash(recorded_late, stamp._replace(ino=8)) is None
    assert PlanCache.known_hash(None, stamp) is None


def test_a_racy_file_becomes_trusted_once_old(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_handbook(handbook)  # both files were just written: racy
    later(monkeypatch)
    reads = count_reads(monkeypatch)
    load_handbook(handbook)
    assert sorted(reads) == ["full.md", "other.md"]  # hashed again, found old enough
    reads.clear()
    load_handbook(handbook)
    assert reads == []


def test_changed_content_and_config_miss(handbook: Path) -> None:
    load_handbook(handbook)
    (handbook / "other.md").write_text("---\ntitle: Changed\n---\n", encoding="utf-8")
    assert load_handbook(handbook).by_id()["other"].title == "Changed"
    before = set(entries(handbook))
    (handbook / "secplan.toml").write_text('anchor_flavour = "kramdown"\n', encoding="utf-8")
    load_handbook(handbook)
    assert len(entries(handbook)) == 2 and not before & set(entries(handbook))


def test_key_includes_the_parser_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import secplan.handbook.cache as cache_module

    old = cache_key("h", "gitlab", None, None)
    monkeypatch.setattr(cache_module, "PARSER_VERSION", "999")
    assert cache_key("h", "gitlab", None, None) != old


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not json",
        "[]",
        '{"title": 1, "bogus": 2}',
        '{"items": [{"x": 1}]}',
        '{"items": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]]}',
        '{"milestones": [["m", "not a date"]]}',
    ],
)
def test_corrupt_entries_are_reparsed(handbook: Path, garbage: str) -> None:
    expected = load_handbook(handbook).plans
    query(handbook, "UPDATE plans SET data = ?", garbage)
    assert load_handbook(handbook).plans == expected
    assert load_handbook(handbook).plans == expected  # and the entries were written anew
    assert all(json.loads(data)["title"] for data in entries(handbook).values())


@pytest.mark.parametrize("garbage", [b"", b"not a database at all" * 100, b"SQLite format 3\0"])
def test_a_corrupt_cache_file_is_replaced(handbook: Path, garbage: bytes) -> None:
    expected = load_handbook(handbook).plans
    (handbook / CACHE_FILE).write_bytes(garbage)
    assert load_handbook(handbook).plans == expected
    assert len(entries(handbook)) == 2


def test_a_foreign_table_layout_is_a_miss(handbook: Path) -> None:
    expected = load_handbook(handbook).plans
    (handbook / CACHE_FILE).unlink()
    query(handbook, "CREATE TABLE plans (key TEXT, other TEXT)")
    assert load_handbook(handbook).plans == expected
    assert len(entries(handbook)) == 2


def test_unwritable_cache_still_loads(handbook: Path) -> None:
    # A file where the cache directory should be makes every write fail, even as root.
    (handbook / ".secplan").write_text("not a directory", encoding="utf-8")
    hb = load_handbook(handbook)
    assert sorted(p.title for p in hb.plans) == ["Other", "Secrets rotation for CI runners"]
    assert (handbook / ".secplan").read_text(encoding="utf-8") == "not a directory"


def test_unwritable_cache_directory_on_the_command_line(handbook: Path) -> None:
    (handbook / ".secplan").write_text("not a directory", encoding="utf-8")
    result = run_cli("check", str(handbook), "--exit-zero", "--format", "json", cwd=handbook)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(json.loads(result.stdout), list | dict)


def test_read_only_cache_file_still_loads(handbook: Path) -> None:
    expected = load_handbook(handbook).plans
    (handbook / "other.md").write_text("---\ntitle: Changed\n---\n", encoding="utf-8")
    cache_dir = handbook / CACHE_FILE.parent
    (handbook / CACHE_FILE).chmod(0o444)
    cache_dir.chmod(0o555)
    try:
        hb = load_handbook(handbook)
    finally:
        cache_dir.chmod(0o755)
    assert hb.by_id()["other"].title == "Changed"
    assert hb.by_id()["full"] == next(p for p in expected if p.id == "full")


def test_environment_switch_disables_the_cache(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECPLAN_NO_CACHE", "1")
    load_handbook(handbook)
    assert not (handbook / ".secplan").exists()


def test_cache_entries_are_json_never_pickle(handbook: Path) -> None:
    load_handbook(handbook)
    stored = entries(handbook)
    assert len(stored) == 2
    for data in stored.values():
        assert isinstance(json.loads(data), dict)


def test_stale_entries_are_pruned_after_a_whole_load(handbook: Path) -> None:
    load_handbook(handbook)
    (handbook / "other.md").write_text("---\ntitle: Changed\n---\n", encoding="utf-8")
    load_handbook(handbook, paths=[handbook / "other.md"])
    assert len(entries(handbook)) == 3  # a partial load never prunes
    (handbook / "full.md").unlink()
    load_handbook(handbook)
    assert len(entries(handbook)) == 1
    assert query(handbook, "SELECT rel_path FROM files") == [("other.md",)]


def test_the_old_per_file_cache_is_removed(handbook: Path) -> None:
    legacy = handbook / ".secplan" / "cache" / "plans" / "ab"
    legacy.mkdir(parents=True)
    (legacy / ("ab" * 32 + ".json")).write_text("{}", encoding="utf-8")
    load_handbook(handbook)
    assert not legacy.parent.exists()
    assert len(entries(handbook)) == 2


def test_a_symlinked_cache_directory_is_never_used(handbook: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / ".gitignore").write_text("keep me\n", encoding="utf-8")
    (elsewhere / "plans" / "ab").mkdir(parents=True)
    precious = elsewhere / "plans" / "ab" / "data.json"
    precious.write_text("{}", encoding="utf-8")
    (handbook / ".secplan").mkdir()
    (handbook / ".secplan" / "cache").symlink_to(elsewhere, target_is_directory=True)
    hb = load_handbook(handbook)
    assert len(hb.plans) == 2
    assert (elsewhere / ".gitignore").read_text(encoding="utf-8") == "keep me\n"
    assert precious.exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == [".gitignore", "plans"]


def test_a_symlinked_cache_file_is_never_used(handbook: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "precious.db"
    elsewhere.write_bytes(b"precious")
    (handbook / CACHE_FILE.parent).mkdir(parents=True)
    (handbook / CACHE_FILE).symlink_to(elsewhere)
    assert len(load_handbook(handbook).plans) == 2
    assert len(load_handbook(handbook).plans) == 2
    assert elsewhere.read_bytes() == b"precious"


def test_concurrent_loads_share_one_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    for n in range(30):
        (tmp_path / f"p{n:02d}.md").write_text(PLAN.replace("CI runners", f"runners {n}"))
    script = (
        "import sys; from pathlib import Path; from secplan.handbook import load_handbook; "
        "hb = load_handbook(Path(sys.argv[1])); print(len(hb.plans), len(hb.errors))"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.split() == ["30", "0"], err
    cache = PlanCache(tmp_path)
    assert len(entries(tmp_path)) == 30
    plans = load_handbook(tmp_path, use_cache=False).plans
    for plan in plans:
        key = cache_key(plan.content_hash, "gitlab", None, None)
        assert cache.get(key, plan_id=plan.id, path=plan.path, rel_path=plan.rel_path) == plan


_fm_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=4),
)
_fm_keys = st.one_of(st.text(max_size=6), st.sampled_from(["$date", "$set", "$map", "$x"]))
_fm_values = st.recursive(
    _fm_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_fm_keys | st.integers() | st.dates(), inner, max_size=3)
        | st.frozensets(st.text(max_size=3) | st.integers(), max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_fm_keys, _fm_values, max_size=5))
def test_any_front_matter_round_trips_through_the_cache_form(front_matter: dict) -> None:
    plan = parse_plan("# T\n", plan_id="p", path=Path("/h/p.md"), rel_path="p.md")
    plan.front_matter = front_matter
    plan.front_matter_lines = {str(k): 1 for k in front_matter}
    data = json.loads(json.dumps(plan_to_data(plan)))
    again = plan_from_data(data, plan_id="p", path=Path("/h/p.md"), rel_path="p.md")
    assert again.front_matter == front_matter
    assert again.front_matter_lines == plan.front_matter_lines


def test_an_unchanged_big_handbook_is_not_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secplan.handbook.cache import BULK_THRESHOLD

    later(monkeypatch)
    count = BULK_THRESHOLD + 20
    for n in range(count):
        (tmp_path / f"p{n}.md").write_text(f"# Plan {n}\n\n- [ ] Item {n}\n", encoding="utf-8")
    import secplan.handbook.cache as cache_module

    load_handbook(tmp_path)
    opened: list[bool] = []
    real_connect = cache_module.connect

    def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
        opened.append(read_only)
        return real_connect(path, read_only=read_only)

    monkeypatch.setattr(cache_module, "connect", connect)
    assert len(load_handbook(tmp_path).plans) == count
    assert opened == [True]  # read, never opened for writing
    (tmp_path / "p0.md").unlink()
    assert len(load_handbook(tmp_path).plans) == count - 1
    assert len(entries(tmp_path)) == count - 1  # a vanished plan is still pruned
    assert ("p0.md",) not in query(tmp_path, "SELECT rel_path FROM files")


@pytest.mark.parametrize("garbage", [b"", b"not a database at all" * 100])
def test_parse_results_written_in_batches_survive_a_replaced_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    import secplan.handbook.cache as cache_module

    later(monkeypatch)
    monkeypatch.setattr(cache_module, "FLUSH_ENTRIES", 2)
    for n in range(7):
        (tmp_path / f"p{n}.md").write_text(f"# Plan {n}\n\n- [ ] Item {n}\n", encoding="utf-8")
    expected = load_handbook(tmp_path, use_cache=False).plans
    (tmp_path / CACHE_FILE).parent.mkdir(parents=True)
    (tmp_path / CACHE_FILE).write_bytes(garbage)
    assert load_handbook(tmp_path).plans == expected
    # The first batch replaced the damaged file; the later ones and the commit kept it.
    assert len(entries(tmp_path)) == 7
    assert len(query(tmp_path, "SELECT rel_path FROM files")) == 7
    reads = count_reads(monkeypatch)
    assert load_handbook(tmp_path).plans == expected
    assert reads == []  # every plan from the cache, no file read again


def test_bytes_beyond_the_budget_are_read_again_when_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader_module, "KEEP_BYTES", 0)
    for n in range(4):
        (tmp_path / f"p{n}.md").write_text(f"# Plan {n}\n\n- [ ] Item {n}\n", encoding="utf-8")
    expected = load_handbook(tmp_path, use_cache=False, jobs=1).plans
    reads = count_reads(monkeypatch)
    assert load_handbook(tmp_path, jobs=1).plans == expected
    assert sorted(reads) == sorted(["p0.md", "p1.md", "p2.md", "p3.md"] * 2)  # hashed, parsed
    assert load_handbook(tmp_path, use_cache=False, jobs=2).plans == expected  # in workers
