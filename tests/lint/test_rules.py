"""Each rule: one plan that triggers it, one that does not (engine severity included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from secplan.config import Config
from secplan.lint.registry import all_rules
from secplan.model import Anchor, Diagnostic, LinkUse, Marker, Milestone, Plan
from tests.lint.helpers import ROOT, check, codes, item, plan


def test_baseline_plan_is_clean() -> None:
    # Every trigger below changes one thing in this plan; it must start out clean.
    assert check(plan()) == []
    assert check(plan(status="ready", epic="g&1", front_matter={"epic": "g&1"})) == []


# --- SP1xx ----------------------------------------------------------------------------------


def test_sp101_missing_title() -> None:
    p = plan(front_matter={})
    del p.front_matter["title"]
    p.title = None
    found = check(p, "SP101")
    assert codes(found) == ["SP101"] and found[0].line == 1
    assert check(plan(), "SP101") == []


def test_sp101_is_quiet_when_a_top_level_heading_titles_the_plan() -> None:
    p = plan(front_matter={})
    del p.front_matter["title"]
    p.title = "From the first heading"  # what the parser takes from `# ...`
    assert check(p, "SP101") == []


def test_sp101_empty_title_points_at_its_line() -> None:
    found = check(plan(front_matter={"title": "  "}), "SP101")
    assert [(f.code, f.line) for f in found] == [("SP101", 2)]


def test_sp101_is_quiet_when_the_yaml_itself_is_broken() -> None:
    p = plan(front_matter={}, diagnostics=[Diagnostic("SP106", "invalid YAML", 3)])
    p.front_matter.clear()
    assert codes(check(p, "SP1")) == ["SP106"]


def test_sp102_invalid_status() -> None:
    found = check(plan(front_matter={"status": "wip"}), "SP102")
    assert codes(found) == ["SP102"] and "'wip'" in found[0].message
    assert check(plan(front_matter={"status": "Review"}), "SP102") == []


def test_sp103_invalid_epic_and_source() -> None:
    p = plan(front_matter={"epic": "not an epic", "source": "group/project!3"})
    found = check(p, "SP103")
    assert [f.line for f in found] == [4, 5]
    ok = plan(
        front_matter={"epic": "https://gitlab.example/groups/sec/-/epics/4", "source": "s/p#3"}
    )
    assert check(ok, "SP103") == []


def test_sp103_parser_diagnostic_wins_over_the_rule() -> None:
    p = plan(
        front_matter={"epic": "nope"},
        diagnostics=[Diagnostic("SP103", "epic 'nope' is not a reference", 4)],
    )
    found = check(p, "SP103")
    assert [f.message for f in found] == ["epic 'nope' is not a reference"]


def test_sp104_invalid_date_and_start_after_due() -> None:
    raw = [{"title": "Pilot", "due": "Q3"}]
    found = check(plan(front_matter={"milestones": raw}), "SP104")
    assert codes(found) == ["SP104"] and "'Q3'" in found[0].message
    backwards = Milestone("Pilot", due=dt.date(2026, 1, 1), start=dt.date(2026, 2, 1), line=5)
    found = check(plan(milestones=[backwards]), "SP104")
    assert codes(found) == ["SP104"] and found[0].line == 5
    fine = [{"title": "Pilot", "due": dt.date(2026, 3, 31), "start": "2026-01-01"}]
    assert check(plan(front_matter={"milestones": fine}), "SP104") == []


def test_sp105_unknown_key_is_info() -> None:
    found = check(plan(front_matter={"no_list": True}), "SP105")
    assert [(f.code, f.severity) for f in found] == [("SP105", "info")]
    assert check(plan(front_matter={"owners": ["@ana"]}), "SP105") == []


@pytest.mark.parametrize(
    "key", ["layout", "description", "canonical_path", "aliases", "weight", "menu", "tags", "draft"]
)
def test_sp105_knows_static_site_keys(key: str) -> None:
    assert check(plan(front_matter={key: "x"}), "SP105") == []


def test_sp105_known_keys_extend_the_defaults() -> None:
    config = Config(root=ROOT, known_keys=["no_list"])
    assert check(plan(front_matter={"no_list": True}), "SP105", config=config) == []
    found = check(plan(front_matter={"no_lsit": True}), "SP105", config=config)
    assert codes(found) == ["SP105"]


@pytest.mark.parametrize("word", ["proposed", "Accepted", "ongoing", "postponed", "withdrawn"])
def test_sp102_accepts_design_document_and_kep_status_words(word: str) -> None:
    assert check(plan(front_matter={"status": word}), "SP102") == []


def test_sp102_statuses_config_maps_a_handbook_word() -> None:
    assert codes(check(plan(front_matter={"status": "wip"}), "SP102")) == ["SP102"]
    config = Config(root=ROOT, statuses={"wip": "draft"})
    assert check(plan(front_matter={"status": "wip"}), "SP102", config=config) == []


def test_sp106_comes_from_the_parser() -> None:
    p = plan(diagnostics=[Diagnostic("SP106", "front matter is not a mapping", 2)])
    assert [(f.code, f.severity, f.name) for f in check(p)] == [
        ("SP106", "error", "invalid-front-matter")
    ]


# --- SP2xx ----------------------------------------------------------------------------------


def test_sp201_duplicate_explicit_anchor() -> None:
    anchors = [Anchor("work", 12), Anchor("work", 30, kind="explicit")]
    found = check(plan(anchors=anchors), "SP201")
    assert [(f.code, f.line) for f in found] == [("SP201", 30)]
    distinct = [Anchor("work", 12), Anchor("rollout", 30, kind="explicit")]
    assert check(plan(anchors=distinct), "SP201") == []


def test_sp202_broken_anchor_link() -> None:
    links = [
        LinkUse("#work", 14),
        LinkUse("#Work", 15, 7),
        LinkUse("#nowhere", 16),
        LinkUse("#top", 17),
    ]
    found = check(plan(links=links), "SP202")
    assert [(f.line, f.column) for f in found] == [(15, 7), (16, 1)]
    assert "did you mean `#work`" in found[0].message
    assert check(plan(links=[LinkUse("#work", 14)]), "SP202") == []


def test_sp202_suggests_the_gitlab_form_of_a_github_style_anchor() -> None:
    p = plan(anchors=[Anchor("upgrade-downgrade", 12)], links=[LinkUse("#upgrade--downgrade", 3)])
    assert "did you mean `#upgrade-downgrade`" in check(p, "SP202")[0].message


def _linking(links: list[str], **kw: object) -> Plan:
    return plan("team/alpha", rel_path="team/alpha.md", links=[LinkUse(u, 14) for u in links], **kw)


def test_sp203_broken_plan_links() -> None:
    beta = plan("team/beta", rel_path="team/beta.md", anchors=[Anchor("rollout", 3)])
    bad = ["./gamma", "beta#nowhere", "../missing.md", "zeta.html", "omega/"]
    found = check(_linking(bad), "SP203", others=[beta])
    assert [f.message.split("`")[1] for f in found] == bad


def test_sp203_good_and_unjudged_links() -> None:
    beta = plan("team/beta", rel_path="team/beta.md", anchors=[Anchor("rollout", 3)])
    good = [
        "./beta",
        "beta.md",
        "beta.html#rollout",
        "../team/beta/",
        "beta#rollout",
        "#work",
        "../",  # the catalog page
        "https://gitlab.example/sec/x",
        "/absolute/path",
        "mailto:sec@example.org",
        "../../outside-the-handbook",
        "diagram.png",
    ]
    assert check(_linking(good), "SP203", others=[beta]) == []


def test_sp203_plans_not_parsed_this_run_still_count() -> None:
    # Checking one file of a big handbook: the others are known by id, not parsed.
    found = check(_linking(["beta#any-anchor", "gamma"]), "SP203", extra_ids={"team/beta"})
    assert [f.message.split("`")[1] for f in found] == ["gamma"]


# --- SP3xx ----------------------------------------------------------------------------------


def test_sp301_no_work_items() -> None:
    found = check(plan(items=[], milestones=[]), "SP301")
    assert [(f.code, f.line) for f in found] == [("SP301", 10)]
    assert check(plan(), "SP301") == []


def test_sp302_item_without_milestone() -> None:
    found = check(
        plan(items=[item(milestone=None), item("Done", milestone=None, done=True)]), "SP302"
    )
    assert codes(found) == ["SP302"]
    generated = item("Requirements: Access", milestone=None, generated=True)
    assert check(plan(items=[item(), generated]), "SP302") == []


def test_sp303_unknown_milestone() -> None:
    found = check(plan(items=[item(milestone="Pilot"), item("Other", milestone="Later")]), "SP303")
    assert codes(found) == ["SP303"] and "'Later'" in found[0].message
    assert check(plan(), "SP303") == []


def test_sp304_item_lacks_detail() -> None:
    found = check(plan(items=[item(description="Do it.")]), "SP304")
    assert codes(found) == ["SP304"] and "2 words" in found[0].message
    with_acceptance = item(description="", acceptance=["Tokens older than 30 days are gone"])
    generated = item("Requirements: Access", description="", generated=True)
    tracked = item("Existing work", description="", ref="security/planning#4")
    assert check(plan(items=[with_acceptance, generated, tracked]), "SP304") == []


def test_sp304_threshold_comes_from_config() -> None:
    short = plan(items=[item(description="Rotate all tokens now.")])
    assert codes(check(short, "SP304")) == ["SP304"]
    assert check(short, "SP304", config=Config(root=ROOT, detail_words=4)) == []


def test_sp305_spike_without_timebox_or_question() -> None:
    spike = item("Spike: vault", spike=True, has_question=True)
    found = check(plan(items=[spike]), "SP305")
    assert codes(found) == ["SP305"] and "timebox" in found[0].message
    assert "question" not in found[0].message
    ok = item("Spike: vault", spike=True, timebox="3d", has_question=True)
    assert check(plan(items=[ok]), "SP305") == []


def test_sp306_unresolved_marker() -> None:
    found = check(plan(markers=[Marker("TBD", 18, 5, "Owner: TBD")]), "SP306")
    assert [(f.line, f.column) for f in found] == [(18, 5)]
    assert check(plan(), "SP306") == []


def test_sp307_milestone_without_due_date() -> None:
    found = check(plan(milestones=[Milestone("Pilot", line=5)]), "SP307")
    assert [(f.code, f.line) for f in found] == [("SP307", 5)]
    assert check(plan(), "SP307") == []


def test_sp308_empty_milestone_stays_a_warning() -> None:
    spare = Milestone("Later", due=dt.date(2026, 6, 1), line=7)
    p = plan(status="ready", milestones=[*plan().milestones, spare])
    found = check(p, "SP308")
    assert [(f.line, f.severity) for f in found] == [(7, "warning")]
    assert check(plan(), "SP308") == []


# --- SP4xx / SP5xx --------------------------------------------------------------------------


def test_sp401_missing_epic_by_status() -> None:
    assert check(plan(status="draft"), "SP401") == []
    assert [f.severity for f in check(plan(status="review"), "SP401")] == ["warning"]
    assert [f.severity for f in check(plan(status="ready"), "SP401")] == ["error"]
    assert [f.severity for f in check(plan(), "SP401", require_ready=True)] == ["error"]
    assert check(plan(status="ready", epic="g&1", front_matter={"epic": "g&1"}), "SP401") == []


def test_sp402_missing_ssot() -> None:
    from secplan.model import Link

    assert codes(check(plan(status="implementing"), "SP402")) == ["SP402"]
    docs = [Link("Runbook", "https://docs.example/runbook")]
    assert check(plan(status="implemented", ssot=docs), "SP402") == []
    assert check(plan(status="ready"), "SP402") == []


def test_sp403_superseded_without_target() -> None:
    assert codes(check(plan(status="superseded"), "SP403")) == ["SP403"]
    found = check(plan(status="superseded", superseded_by="ghost"), "SP403")
    assert "'ghost'" in found[0].message
    beta = plan("beta")
    assert check(plan(status="superseded", superseded_by="beta"), "SP403", others=[beta]) == []


def test_sp501_unresolved_review_threads() -> None:
    threads = {"alpha": 2}
    assert check(plan(status="draft"), "SP501", open_threads=threads) == []
    found = check(plan(status="review"), "SP501", open_threads=threads)
    assert [(f.severity, f.message[:28]) for f in found] == [
        ("warning", "2 unresolved review threads ")
    ]
    assert [f.severity for f in check(plan(status="ready"), "SP501", open_threads=threads)] == [
        "error"
    ]
    assert check(plan(status="ready"), "SP501", open_threads={"beta": 1}) == []


def test_every_rule_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    handbook_level = {"SP001", "SP100", "SP900"}  # tested in test_engine / test_catalog_rule
    for info in all_rules():
        if info.code not in handbook_level:
            assert f"test_{info.code.lower()}" in source, info.code


def test_sp309_template_text_left_in_a_ready_plan() -> None:
    from secplan.handbook.scaffold import render_plan
    from secplan.markdown import parse_plan

    def parsed(status: str) -> Plan:
        text = render_plan("Key escrow", status=status, today=dt.date(2027, 3, 3))
        text = text.replace("TODO: ", "")  # the markers gone, the placeholders still there
        return parse_plan(text, plan_id="alpha", path=ROOT / "alpha.md", rel_path="alpha.md")

    found = check(parsed("ready"), "SP309")
    assert found and {f.severity for f in found} == {"error"}
    assert any("Replace this example with the first piece of work" in f.message for f in found)
    assert check(parsed("draft"), "SP309") == []  # a new draft is the template


def test_sp404_epic_missing_from_the_tracker() -> None:
    p = plan(status="review", epic="g&2", front_matter={"epic": "g&2"})
    found = check(p, "SP404", known_epics=frozenset({"g&1"}))
    assert codes(found) == ["SP404"] and "g&2" in found[0].message
    assert check(p, "SP404", known_epics=frozenset({"g&2"})) == []
    assert check(p, "SP404") == []  # no tracker to ask: skipped
