"""A second build rewrites only the pages that depend on what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secplan.site import builder, fastpath, search
from secplan.site.builder import build
from secplan.site.manifest import MANIFEST_NAME


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_nothing_changed_nothing_written(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = build(site_handbook, out)
    assert first.plans_rebuilt == first.plans_total == 5
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != MANIFEST_NAME}
    again = build(site_handbook, out)
    assert again.written == [] and again.plans_rebuilt == 0 and again.removed == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != MANIFEST_NAME} == stamps


def test_a_body_edit_rewrites_that_plan_and_the_search_index(
    site_handbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    _edit(site_handbook / "patching.md", "within 48 hours", "within 24 hours")
    report = build(site_handbook, out)
    assert report.plans_rebuilt == 1
    assert sorted(report.written) == [
        "pagefind/shard-00/",
        "plans/patching.html",
        "plans/patching.json",
        "source/patching.html",
    ]
    assert "within 24 hours" in (out / "plans/patching.html").read_text()


def test_a_title_edit_also_rewrites_the_catalog(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    _edit(site_handbook / "patching.md", "title: Patching cadence", "title: Patch cadence")
    report = build(site_handbook, out)
    assert {"index.html", "plans.json", "plans/patching.html"} <= set(report.written)
    assert "Patch cadence" in (out / "index.html").read_text()


def test_a_deleted_plan_loses_its_pages_and_assets(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    (site_handbook / "network" / "firewall.md").unlink()
    _edit(site_handbook / "network" / "_index.md", "![Zone map](zones.png)", "")
    report = build(site_handbook, out)
    assert "plans/network/firewall.html" in report.removed
    assert "plans/network/zones.png" in report.removed
    assert not (out / "plans/network/firewall.html").exists()
    assert (out / "plans/network/_index.html").is_file()


def test_a_lost_output_file_is_written_again(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    (out / "plans/patching.html").unlink()
    (out / "plans/network/zones.png").unlink()
    report = build(site_handbook, out)
    assert (out / "plans/patching.html").is_file() and (out / "plans/network/zones.png").is_file()
    assert report.plans_rebuilt == 1


def test_an_edit_re_indexes_only_the_search_shard_of_its_page(
    site_handbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "PAGES_PER_SHARD", 1)  # a shard per page or so
    out = tmp_path / "public"
    first = build(site_handbook, out)
    shards = sorted(w for w in first.written if w.startswith("pagefind/shard-"))
    assert len(shards) > 1
    state = json.loads((out / "pagefind/shards.json").read_text())
    assert state["bundles"] == shards
    _edit(site_handbook / "patching.md", "within 48 hours", "within 24 hours")
    report = build(site_handbook, out)
    count = search.shard_count(len([p for s in state["shards"].values() for p in s]))
    expected = f"pagefind/shard-{search.shard_of('plans/patching.html', count):02d}/"
    assert [w for w in report.written if w.startswith("pagefind/")] == [expected]
    # Every shard is still there and listed: the browser merges them all.
    assert json.loads((out / "pagefind/shards.json").read_text())["bundles"] == shards
    for shard in shards:
        assert (out / shard / "pagefind-entry.json").is_file()


def test_a_renamed_heading_breaks_and_mends_the_links_to_it(
    site_handbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    assert build(site_handbook, out, search=False).broken == []
    _edit(site_handbook / "patching.md", "## Schedule", "## Timetable")
    report = build(site_handbook, out, search=False)
    assert [(b.source, b.line, b.url) for b in report.broken] == [
        ("edr-rollout/index.html.md", 17, "../patching.html#schedule")
    ]
    _edit(site_handbook / "patching.md", "## Timetable", "## Schedule")
    assert build(site_handbook, out, search=False).broken == []


def test_a_removed_asset_is_a_finding_of_the_kept_pages_that_link_it(
    site_handbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    build(site_handbook, out, search=False)
    image = site_handbook / "network" / "zones.png"
    data = image.read_bytes()
    image.unlink()
    report = build(site_handbook, out, search=False)
    # No plan changed: their pages are not written again, yet the check sees the lost file.
    assert report.written == [] and report.removed == ["plans/network/zones.png"]
    assert sorted((b.source, b.line) for b in report.broken) == [
        ("network/_index.md", 11),
        ("network/firewall.md", 10),
    ]
    image.write_bytes(data)
    report = build(site_handbook, out, search=False)
    assert report.broken == [] and report.written == ["plans/network/zones.png"]
    # The finding is remembered too: a build where nothing changed reports the same.
    image.unlink()
    build(site_handbook, out, search=False)
    assert len(build(site_handbook, out, search=False).broken) == 2


def test_nothing_changed_is_answered_without_loading_the_handbook(
    site_handbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "RACY_NS", 0)  # the files were all written just now
    out = tmp_path / "public"
    (site_handbook / "network" / "zones.png").unlink()  # two findings to remember
    first = build(site_handbook, out, search=False)
    assert len(first.broken) == 2

    def no_full_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(builder, "full_build", no_full_build)
    again = build(site_handbook, out, search=False)
    assert again.written == [] and again.plans_total == first.plans_total
    assert again.broken == first.broken and again.external == first.external
    # Any input or a lost output file means the full build.
    for change in (
        lambda: _edit(site_handbook / "patching.md", "within 48 hours", "within 24 hours"),
        lambda: (out / "plans/patching.html").unlink(),
        lambda: (site_handbook / "network" / "zones.png").write_bytes(b"png"),
    ):
        change()
        with pytest.raises(AssertionError, match="built again"):
            build(site_handbook, out, search=False)
        monkeypatch.undo()
        monkeypatch.setattr(fastpath, "RACY_NS", 0)
        build(site_handbook, out, search=False)
        monkeypatch.setattr(builder, "full_build", no_full_build)
    assert build(site_handbook, out, search=False).broken == []


def test_a_file_changed_just_now_is_never_trusted(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out, search=False)
    # Same size and times as recorded would not do: the file is too young to judge by them.
    assert fastpath.inputs_digest(site_handbook.resolve(), out, None, None, False) is None
