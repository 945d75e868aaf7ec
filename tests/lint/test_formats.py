"""Snapshot tests: every output format on the fixture handbook, compared exactly.

Regenerate after an intended change with ``SECPLAN_UPDATE_SNAPSHOTS=1 pytest tests/lint``.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secplan.lint.engine import CheckResult
from secplan.lint.formats import text
from secplan.lint.registry import Finding
from tests import snapshot
from tests.conftest import FIXTURES, run_cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
HANDBOOK = FIXTURES / "lint" / "handbook"


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    """A copy of the fixture handbook (the check writes its parse cache under the root)."""
    copy = tmp_path / "handbook"
    shutil.copytree(HANDBOOK, copy)
    return copy


def assert_snapshot(name: str, actual: str) -> None:
    snapshot.assert_snapshot(SNAPSHOTS, name, actual)


@pytest.mark.parametrize(
    ("args", "snapshot"),
    [
        ((), "text.txt"),
        (("--format", "json"), "json.json"),
        (("--format", "gitlab"), "gitlab.json"),
        (("--format", "sarif"), "sarif.json"),
        (("--format", "github"), "github.txt"),
        (("--statistics",), "statistics.txt"),
        (("--require", "ready"), "require-ready.txt"),
    ],
)
def test_output_format_snapshot(handbook: Path, args: tuple[str, ...], snapshot: str) -> None:
    result = run_cli("check", *args, cwd=handbook)
    assert result.returncode == 1, result.stderr
    # "Is it done?" without a tracker database: SP404 could not look the epics up, and says so.
    notes = ["epics were not checked against the tracker"] if "--require" in args else []
    assert [n for n in notes if n in result.stderr] == notes
    assert len(result.stderr.splitlines()) == len(notes), result.stderr
    assert_snapshot(snapshot, result.stdout)


def test_json_objects_have_the_documented_keys(handbook: Path) -> None:
    data = json.loads(run_cli("check", "--format", "json", cwd=handbook).stdout)
    keys = {"code", "name", "severity", "message", "path", "line", "column", "plan", "fixable"}
    assert data and all(keys <= set(obj) for obj in data)
    assert {obj["severity"] for obj in data} == {"error", "warning", "info"}


def test_gitlab_report_shape_and_unique_fingerprints(handbook: Path) -> None:
    data = json.loads(run_cli("check", "--format", "gitlab", cwd=handbook).stdout)
    assert len({d["fingerprint"] for d in data}) == len(data)
    for d in data:
        assert d["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(d["location"]["lines"]["begin"], int)
        assert not Path(d["location"]["path"]).is_absolute()


def test_gitlab_fingerprints_survive_moving_lines(handbook: Path) -> None:
    before = json.loads(run_cli("check", "--format", "gitlab", cwd=handbook).stdout)
    gappy = handbook / "gappy.md"
    text = gappy.read_text(encoding="utf-8")
    gappy.write_text(text.replace("# Gappy plan\n", "# Gappy plan\n\nA new paragraph.\n"))
    after = json.loads(run_cli("check", "--format", "gitlab", cwd=handbook).stdout)
    moved = [d for d in after if d["location"]["path"] == "gappy.md"]
    assert moved and {d["fingerprint"] for d in moved} <= {d["fingerprint"] for d in before}
    lines_before = {
        d["location"]["lines"]["begin"] for d in before if "gappy" in d["location"]["path"]
    }
    assert lines_before != {d["location"]["lines"]["begin"] for d in moved}


def test_sarif_results_point_at_declared_rules(handbook: Path) -> None:
    log = json.loads(run_cli("check", "--format", "sarif", cwd=handbook).stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}


def test_github_escapes_workflow_command_data() -> None:
    from secplan.lint.formats import github

    f = Finding("SP306", "50% done,\nnext: x", 3, 2, name="unresolved-marker", severity="info")
    f.path = "a,b:c.md"
    out = io.StringIO()
    github.write(CheckResult(findings=[f]), out)
    assert out.getvalue() == (
        "::notice file=a%2Cb%3Ac.md,line=3,col=2,title=SP306 (unresolved-marker)"
        "::SP306 50%25 done,%0Anext: x\n"
    )


def _many_findings(n: int) -> CheckResult:
    findings = [
        Finding(
            "SP306" if i % 3 else "SP001",
            f"finding {i}",
            i + 1,
            1,
            name="unresolved-marker",
            severity=("error", "warning", "info")[i % 3],
            fixable=not i % 3,
        )
        for i in range(n)
    ]
    for f in findings:
        f.path = "plan.md"
    return CheckResult(findings=findings, plans_checked=1)


class _Terminal(io.StringIO):
    """A stream that says it is a terminal and counts the writes it gets."""

    writes = 0

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_text_lines_are_plain_off_a_terminal_and_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    result = _many_findings(1300)
    plain = io.StringIO()
    text.write(result, plain)
    lines = plain.getvalue().splitlines()
    assert lines[0] == "plan.md:1:1: SP001 [*] finding 0"
    assert lines[1] == "plan.md:2:1: SP306 finding 1"
    assert len(lines) == 1300 + 2  # the summary and the fixable line
    assert "\x1b[" not in plain.getvalue()

    terminal = _Terminal()
    text.write(result, terminal)
    coloured = terminal.getvalue().splitlines()
    assert coloured[2] == "\x1b[1mplan.md:3:1:\x1b[0m \x1b[34m\x1b[1mSP306\x1b[0m finding 2"
    assert len(coloured) == len(lines)
    assert terminal.writes < 10  # a few chunks, not one write (and flush) per finding

    monkeypatch.setenv("NO_COLOR", "1")
    text.write(result, terminal := _Terminal())
    assert terminal.getvalue() == plain.getvalue()


_texts = st.text(max_size=12)


@given(
    st.lists(
        st.builds(
            Finding,
            code=_texts,
            message=st.text(),
            line=st.integers(min_value=0, max_value=2**40),
            column=st.integers(min_value=0, max_value=2**40),
            name=_texts,
            severity=st.sampled_from(["error", "warning", "info"]),
            path=_texts,
            plan=st.none() | _texts,
            fixable=st.booleans(),
        ),
        max_size=6,
    )
)
def test_json_encoding_is_exactly_json_dumps_with_indent(findings: list[Finding]) -> None:
    from secplan.lint.formats.json_format import encode_findings

    expected = json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False)
    assert encode_findings(findings) == expected
