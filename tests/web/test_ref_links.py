"""``links.ref``: one answer, for the server and the static site, to where a tracker ref goes."""

from __future__ import annotations

from secplan.web.links import ServerLinks, SiteLinks, issue_path, milestone_anchor


def _kind(ref: str) -> str | None:
    return {"g/sub&16": "epic", "g/p#12": "issue", "g/p#7": "epic"}.get(ref)


def test_server_links_tracker_refs() -> None:
    links = ServerLinks(lambda _id: None, _kind)
    assert links.ref("g/sub&16") == "/epics/g%2Fsub%2616"
    assert links.ref("g/p#12") == "/issues/g/p/12"
    assert links.ref("g/p#7") == "/epics/g%2Fp%237"  # a tracking issue that is an epic
    assert links.ref("g/sub&99") is None and links.ref("g/p#99") is None
    assert links.ref('%"Phase 1: pilot"') == "/roadmap#ms-phase-1-pilot"
    assert links.ref(None) is None and links.ref("") is None
    assert links.tracker
    assert not ServerLinks(lambda _id: None).tracker  # no tracker read: refs are unknown


def test_site_links_tracker_refs_are_relative_and_only_to_written_pages() -> None:
    links = SiteLinks(
        "issues/g/p/12.html", lambda _id: None, epics=["g/sub&16"], issues=["g/p#12"], board=True
    )
    assert links.ref("g/sub&16") == "../../../epics/g/sub%2616.html"
    assert links.ref("g/p#12") == "12.html"
    assert links.ref("g/p#13") is None
    assert links.ref("%Pilot") == "../../../roadmap.html#ms-pilot"
    without = SiteLinks("index.html", lambda _id: None)
    assert without.ref("%Pilot") is None and without.roadmap() is None and not without.tracker


def test_issue_path_and_milestone_anchor() -> None:
    assert issue_path("group/sub/project#12") == "group/sub/project/12"
    assert issue_path("no-hash") is None and issue_path("#12") is None
    assert milestone_anchor("Rollout (all runners)") == "ms-rollout-all-runners"
    assert milestone_anchor("???") == "ms-untitled"
