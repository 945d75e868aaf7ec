"""The engine: severity escalation, select/ignore, configuration, suppression, isolation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secplan.config import Config, load_config
from secplan.errors import UsageError
from secplan.handbook.loader import FileError, Handbook
from secplan.lint import registry
from secplan.lint.engine import Engine, Selector, lint_plans, severity_for
from secplan.lint.registry import RULES, Finding, all_rules
from secplan.model import Marker
from tests.conftest import EXAMPLE_HANDBOOK, PROJECT
from tests.lint.helpers import ROOT, check, codes, item, plan

GAPPY = {"items": [item(description="Short.")], "markers": [Marker("TODO", 18, 1, "TODO x")]}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", "warning"),
        ("review", "warning"),
        ("ready", "error"),
        ("implementing", "error"),
        ("implemented", "error"),
    ],
)
def test_warnings_escalate_from_ready(status: str, expected: str) -> None:
    found = check(plan(status=status, **GAPPY), "SP304")
    assert [f.severity for f in found] == [expected]


def test_require_ready_judges_drafts_as_ready() -> None:
    found = check(plan(**GAPPY), "SP3", require_ready=True)
    assert {f.severity for f in found} == {"error"}
    assert codes(found) == ["SP304", "SP306"]


@pytest.mark.parametrize("status", ["abandoned", "superseded"])
def test_abandoned_and_superseded_plans_are_judged_leniently(status: str) -> None:
    p = plan(status=status, superseded_by="alpha", front_matter={"no_list": "x"}, **GAPPY)
    assert codes(check(p)) == ["SP105"]


def test_non_escalating_rules_keep_their_severity() -> None:
    info = RULES["SP308"]
    assert severity_for(info, "ready", Config(root=ROOT)) == "warning"
    assert severity_for(RULES["SP105"], "implemented", Config(root=ROOT)) == "info"


def test_configured_severity_is_used_as_is_and_off_disables() -> None:
    config = Config(root=ROOT, severity={"SP3": "info", "SP306": "off"})
    found = check(plan(status="ready", **GAPPY), "SP3", config=config)
    assert [(f.code, f.severity) for f in found] == [("SP304", "info")]


def test_config_ignore_and_cli_select_ignore() -> None:
    p = plan(**GAPPY)
    assert codes(check(p)) == ["SP304", "SP306"]
    assert codes(check(p, config=Config(root=ROOT, ignore=["SP306"]))) == ["SP304"]
    assert codes(check(p, "unresolved-marker")) == ["SP306"]
    assert codes(check(p, "ALL")) == ["SP304", "SP306"]
    engine = Engine(Config(root=ROOT), Selector.build(["SP3"], ["SP304"]))
    from tests.lint.helpers import context

    assert codes(engine.check_plan(p, context([p]), cwd=ROOT)) == ["SP306"]


def test_select_accepts_comma_separated_and_lower_case() -> None:
    selector = Selector.build(["sp304,SP306"])
    enabled = {r.code for r in all_rules() if selector.enabled(r)}
    assert enabled == {"SP304", "SP306"}


@pytest.mark.parametrize("pattern", ["SP999x", "S", "sp9999", "unresolved"])
def test_unknown_pattern_is_a_usage_error(pattern: str) -> None:
    with pytest.raises(UsageError) as err:
        Selector.build([pattern])
    assert err.value.exit_code == 2 and pattern in err.value.message


def test_suppression_comment_silences_only_its_code_on_its_line() -> None:
    markers = [Marker("TODO", 18, 1, "TODO a"), Marker("TBD", 19, 1, "TBD b")]
    p = plan(markers=markers, suppressions={18: {"SP306"}, 19: {"SP304"}})
    assert [f.line for f in check(p)] == [19]
    p = plan(markers=markers, suppressions={19: {"SP3"}})
    assert [f.line for f in check(p)] == [18]
    p = plan(markers=markers, suppressions={18: {"ALL"}})
    assert [f.line for f in check(p)] == [19]


def test_parser_diagnostics_are_suppressible_and_selectable() -> None:
    from secplan.model import Diagnostic

    p = plan(diagnostics=[Diagnostic("SP104", "bad date", 6)])
    assert codes(check(p)) == ["SP104"]
    assert check(plan(diagnostics=p.diagnostics, suppressions={6: {"SP104"}})) == []
    assert check(p, "SP3") == []


def test_a_crashing_rule_is_reported_and_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(plan: object, ctx: object) -> list[Finding]:
        raise KeyError("surprise")

    info = RULES["SP307"]
    monkeypatch.setitem(RULES, "SP307", registry.RuleInfo(**{**info.__dict__, "func": boom}))
    found = check(plan(**GAPPY))
    assert sorted(codes(found)) == ["SP304", "SP306", "SP900"]
    crash = next(f for f in found if f.code == "SP900")
    assert "SP307" in crash.message and "KeyError" in crash.message


def test_handbook_errors_and_order(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    b = plan("b", path=tmp_path / "b.md", rel_path="b.md", **GAPPY)
    a = plan("a", path=tmp_path / "a.md", rel_path="a.md", markers=[Marker("XXX", 3, 9, "")])
    handbook = Handbook(root=tmp_path, config=config, plans=[b, a])
    handbook.errors.append(FileError(tmp_path / "bin.md", "bin.md", "SP100", "binary file", 1))
    result = Engine(config).check(handbook, cwd=tmp_path)
    assert [(f.path, f.line, f.code) for f in result.findings] == [
        ("a.md", 3, "SP306"),
        ("b.md", 18, "SP306"),
        ("b.md", 20, "SP304"),
        ("bin.md", 1, "SP100"),
    ]
    assert result.findings[-1].plan is None and result.findings[-1].severity == "error"
    assert result.has_errors and result.plans_checked == 2


def test_lint_plans_for_the_web_ui(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    p = plan(path=tmp_path / "alpha.md", **GAPPY)
    handbook = Handbook(root=tmp_path, config=config, plans=[p])
    assert {f.severity for f in lint_plans(handbook, [p], require_ready=True)} == {"error"}
    assert {f.severity for f in lint_plans(handbook)} == {"warning"}


def test_registry_codes_and_names_are_unique_and_well_formed() -> None:
    rules = all_rules()
    assert len({r.name for r in rules}) == len(rules)
    for r in rules:
        assert r.code.startswith("SP") and len(r.code) == 5 and r.code[2:].isdigit()
        assert r.name == r.name.lower() and " " not in r.name and r.summary


def test_runner_knows_where_the_store_keeps_its_database(tmp_path: Path) -> None:
    from secplan.lint.threads import DEFAULT_DATABASE, load_open_threads
    from secplan.store.engine import default_database_path

    assert tmp_path / DEFAULT_DATABASE == default_database_path(tmp_path)
    assert load_open_threads(tmp_path, None) == {}
    assert not (tmp_path / ".secplan").exists()  # looking never creates anything


def test_a_check_without_a_database_never_imports_sqlalchemy(tmp_path: Path) -> None:
    # The import is a third of a small check's run time; only a store to read justifies it.
    shutil.copytree(EXAMPLE_HANDBOOK, tmp_path / "hb")
    script = (
        "import sys; from pathlib import Path\n"
        "from secplan.lint.runner import CheckOptions, resolve_targets, run_check\n"
        "result = run_check(resolve_targets([], Path(sys.argv[1]), Path.cwd()), CheckOptions())\n"
        "print(result.plans_checked, 'sqlalchemy' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "hb")],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    plans, imported = run.stdout.split()
    assert int(plans) > 0 and imported == "False"
