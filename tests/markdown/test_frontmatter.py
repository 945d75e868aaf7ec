"""Front matter: splitting, safe YAML, line numbers, normalisation and diagnostics."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from secplan.markdown import parse_plan
from secplan.markdown.frontmatter import split_front_matter


def codes(plan) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in plan.diagnostics]


def test_split_keeps_body_line_numbers() -> None:
    yaml_text, body, body_line, problem = split_front_matter("---\ntitle: A\n---\n# H\n")
    assert yaml_text == "title: A\n"
    assert body == "# H\n"
    assert body_line == 4
    assert problem is None


def test_dots_close_front_matter_too() -> None:
    yaml_text, body, body_line, _ = split_front_matter("---\ntitle: A\n...\nbody\n")
    assert yaml_text == "title: A\n" and body == "body\n" and body_line == 4


def test_unclosed_front_matter_is_sp106_and_the_body_still_parses() -> None:
    plan = parse_plan("---\ntitle: A\n\n- [ ] item\n")
    assert codes(plan) == [("SP106", 1)]
    assert [i.title for i in plan.items] == ["item"]


def test_no_front_matter_gives_defaults() -> None:
    plan = parse_plan("Just a paragraph\n")
    assert plan.title is None
    assert plan.status == "draft"
    assert plan.confidential is True
    assert plan.requirements_mode == "none"
    assert plan.front_matter == {}


def test_fields_are_read_and_normalised() -> None:
    plan = parse_plan(
        "---\n"
        "title: Enclave\n"
        "status: Ready\n"
        "epic: https://gitlab.example.com/groups/g/sub/-/epics/16\n"
        "source: https://gitlab.example.com/g/intake/-/issues/4\n"
        "tracker: g/work\n"
        "owners: ['@alice', bob]\n"
        "labels: security, crypto\n"
        "confidential: false\n"
        "superseded_by: other-plan\n"
        "requirements: issues\n"
        "resources:\n"
        "  - {title: Threat model, url: 'https://x.example/tm'}\n"
        "ssot: ['https://runbooks.example/r']\n"
        "layout: handbook\n"
        "---\n"
    )
    assert plan.title == "Enclave"
    assert plan.status == "ready"
    assert plan.epic == "g/sub&16"
    assert plan.source == "g/intake#4"
    assert plan.tracker == "g/work"
    assert plan.owners == ["alice", "bob"]
    assert plan.labels == ["security", "crypto"]
    assert plan.confidential is False
    assert plan.superseded_by == "other-plan"
    assert plan.requirements_mode == "issues"
    assert [(r.title, r.url) for r in plan.resources] == [("Threat model", "https://x.example/tm")]
    assert plan.ssot[0].url == "https://runbooks.example/r"
    assert plan.front_matter["layout"] == "handbook"
    assert plan.front_matter_lines["layout"] == 15
    assert plan.front_matter_lines["title"] == 2
    assert plan.diagnostics == []


def test_unknown_status_is_kept_for_lint_to_judge() -> None:
    plan = parse_plan("---\ntitle: A\nstatus: finished\n---\n")
    assert plan.status == "finished"
    assert plan.diagnostics == []


def test_epic_shorthand_uses_the_configured_group() -> None:
    plan = parse_plan("---\nepic: '&7'\n---\n", default_group="security")
    assert plan.epic == "security&7"


def test_bad_references_are_sp103_on_their_line() -> None:
    plan = parse_plan("---\ntitle: A\nepic: not an epic\nsource: 12\n---\n")
    assert codes(plan) == [("SP103", 3), ("SP103", 4)]
    assert plan.epic is None and plan.source is None


def test_milestone_dates_and_their_problems_carry_lines() -> None:
    plan = parse_plan(
        "---\n"
        "title: A\n"
        "milestones:\n"
        "  - title: One\n"
        "    due: 2026-03-01\n"
        "    start: '2026-02-01'\n"
        "  - title: Two\n"
        "    due: 2026-13-01\n"
        "  - title: Three\n"
        "    start: 2026-06-01\n"
        "    due: 2026-05-01\n"
        "  - Four\n"
        "---\n"
    )
    one, two, three, four = plan.milestones
    assert (one.due, one.start, one.line) == (date(2026, 3, 1), date(2026, 2, 1), 4)
    assert two.due is None and two.line == 7
    assert three.start == date(2026, 6, 1)
    assert four.title == "Four"
    assert codes(plan) == [("SP104", 8), ("SP104", 10)]


def test_yaml_error_is_sp106_with_its_line() -> None:
    plan = parse_plan("---\ntitle: A\nstatus: [unclosed\nother: 1\n---\n# Body\n")
    assert [d.code for d in plan.diagnostics] == ["SP106"]
    assert plan.diagnostics[0].line >= 3
    assert plan.sections[0].title == "Body"


def test_front_matter_that_is_not_a_mapping_is_sp106() -> None:
    plan = parse_plan("---\n- just\n- a list\n---\n")
    assert codes(plan) == [("SP106", 2)]
    assert plan.front_matter == {}


def test_alias_bomb_is_refused_cheaply() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for n in range(1, 9):
        prev = chr(ord("a") + n - 1)
        cur = chr(ord("a") + n)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    plan = parse_plan("---\ntitle: Bomb\n" + "\n".join(lines) + "\n---\n")
    assert [d.code for d in plan.diagnostics] == ["SP106"]
    assert "alias" in plan.diagnostics[0].message
    assert plan.front_matter == {}


def test_deep_nesting_is_refused() -> None:
    deep = "[" * 500 + "]" * 500
    plan = parse_plan(f"---\ntitle: Deep\nx: {deep}\n---\n")
    assert [d.code for d in plan.diagnostics] == ["SP106"]
    very_deep = "[" * 5000 + "]" * 5000
    plan = parse_plan(f"---\ntitle: Deep\nx: {very_deep}\n---\n")
    assert [d.code for d in plan.diagnostics] == ["SP106"]


def test_known_key_with_wrong_kind_of_value_is_sp106_on_its_line() -> None:
    plan = parse_plan("---\ntitle: A\nmilestones: soon\nconfidential: maybe\n---\n")
    assert sorted(codes(plan)) == [("SP106", 3), ("SP106", 4)]
    assert plan.confidential is True


def test_unusual_yaml_values_are_kept_in_front_matter() -> None:
    plan = parse_plan("---\ntitle: A\nextra: !!set {a, b}\n1: numeric key\nwhen: 2026-01-01\n---\n")
    assert plan.front_matter["extra"] == {"a", "b"}
    assert plan.front_matter["1"] == "numeric key"
    assert plan.front_matter["when"] == date(2026, 1, 1)


def test_toml_front_matter_is_reported_and_skipped() -> None:
    plan = parse_plan('+++\ntitle = "A"\n+++\n## Work\n')
    assert codes(plan) == [("SP106", 1)]
    assert "TOML" in plan.diagnostics[0].message
    assert [(s.title, s.line) for s in plan.sections] == [("Work", 4)]


def test_repeated_keys_are_reported_and_the_last_one_wins() -> None:
    plan = parse_plan("---\ntitle: First\nstatus: draft\ntitle: Second\n---\n")
    assert codes(plan) == [("SP106", 4)]
    assert "line 2" in plan.diagnostics[0].message
    assert plan.title == "Second"
    assert plan.front_matter_lines["title"] == 4


# -- the direct constructor builds what PyYAML builds ---------------------------------------

_YAML_EDGES = [
    "a: &x [1, 2]\nb: *x\n",
    "base: &b {k: 1}\nderived:\n  <<: *b\n  j: 2\n",
    "s: !!set {a, b}\nbin: !!binary aGVsbG8=\n",
    "d: 2026-01-31\nt: 2026-01-31 10:00:00\nbad: 2026-13-01\n",
    "? [a, b]\n: unhashable\n",
    "? {a: 1}\n: unhashable\n",
    "n: ~\nb: yes\nf: 1.5\ni: 0x1f\ninf: .inf\nq: '010'\n",
    "r: &r [*r]\n",
    "tagged: !!str 12\nint: !!int '7'\n",
    "1: one\n2.5: two\nnull: three\ntrue: four\n",
    "o: !!omap [a: 1, b: 2]\np: !!pairs [a: 1]\n",
]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.dates(),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def _both(text: str) -> tuple[object, object]:
    from secplan.markdown.frontmatter import _Loader, construct

    results = []
    for build in (construct, lambda loader, node: loader.construct_document(node)):
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            results.append(("ok", build(loader, node)))
        except Exception as exc:  # the same error either way
            results.append(("error", type(exc).__name__, str(exc)))
        finally:
            loader.dispose()
    return results[0], results[1]


@pytest.mark.parametrize("text", _YAML_EDGES)
def test_direct_construction_matches_pyyaml_on_edge_cases(text: str) -> None:
    fast, slow = _both(text)
    assert repr(fast) == repr(slow)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_direct_construction_matches_pyyaml(data: dict[str, object]) -> None:
    fast, slow = _both(yaml.safe_dump(data, allow_unicode=True))
    assert repr(fast) == repr(slow)
