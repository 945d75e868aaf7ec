"""The per-file parse cache: hits, invalidation, corrupt entries, read-only roots, no pickle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secplan.handbook import load_handbook
from secplan.handbook.cache import CACHE_DIR, PlanCache, cache_key
from secplan.handbook.serialize import plan_from_data, plan_to_data
from secplan.markdown import parse_plan
from tests.conftest import FIXTURES

PLAN = (FIXTURES / "parser" / "full-plan.md").read_text(encoding="utf-8")


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    (tmp_path / "full.md").write_text(PLAN, encoding="utf-8")
    (tmp_path / "other.md").write_text("---\ntitle: Other\n---\n- [ ] x\n", encoding="utf-8")
    return tmp_path


def entries(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob("*/*.json"))


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
    for entry in entries(handbook):
        data = json.loads(entry.read_text())
        if data["title"] == "Other":
            data["title"] = "From cache"
            entry.write_text(json.dumps(data))
    assert load_handbook(handbook).by_id()["other"].title == "From cache"
    assert load_handbook(handbook, use_cache=False).by_id()["other"].title == "Other"


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
    "garbage", [b"", b"not json", b"[]", b'{"title": 1, "bogus": 2}', b'{"items": [{"x": 1}]}']
)
def test_corrupt_entries_are_reparsed(handbook: Path, garbage: bytes) -> None:
    expected = load_handbook(handbook).plans
    for entry in entries(handbook):
        entry.write_bytes(garbage)
    assert load_handbook(handbook).plans == expected


def test_unwritable_cache_still_loads(handbook: Path) -> None:
    # A file where the cache directory should be makes every write fail, even as root.
    (handbook / ".secplan").write_text("not a directory", encoding="utf-8")
    hb = load_handbook(handbook)
    assert sorted(p.title for p in hb.plans) == ["Other", "Secrets rotation for CI runners"]
    assert (handbook / ".secplan").read_text(encoding="utf-8") == "not a directory"


def test_environment_switch_disables_the_cache(
    handbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECPLAN_NO_CACHE", "1")
    load_handbook(handbook)
    assert entries(handbook) == []


def test_cache_entries_are_json_never_pickle(handbook: Path) -> None:
    load_handbook(handbook)
    for entry in entries(handbook):
        assert isinstance(json.loads(entry.read_text(encoding="utf-8")), dict)


def test_stale_entries_are_pruned_after_a_whole_load(handbook: Path) -> None:
    load_handbook(handbook)
    (handbook / "other.md").write_text("---\ntitle: Changed\n---\n", encoding="utf-8")
    load_handbook(handbook, paths=[handbook / "other.md"])
    assert len(entries(handbook)) == 3  # a partial load never prunes
    load_handbook(handbook)
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
    assert sorted(p.name for p in (elsewhere / "plans" / "ab").iterdir()) == ["data.json"]
