"""The catalog table: rendering, staleness, and rewriting only what is between the markers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyromark
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secplan.config import Config
from secplan.errors import NotFoundError
from secplan.handbook import Handbook, load_handbook
from secplan.handbook.catalog import (
    END_MARKER,
    START_MARKER,
    catalog_json,
    catalog_status,
    render_catalog_table,
    write_catalog,
)
from secplan.model import Link, Plan
from tests.conftest import EXAMPLE_HANDBOOK
from tests.snapshot import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _plan(root: Path, rel: str, front: str, body: str = "# Plan\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return path


def _index(root: Path, text: str, name: str = "index.md") -> Path:
    path = root / name
    path.write_bytes(text.encode("utf-8"))
    return path


MANAGED = f"# Plans\n\nIntro text stays.\n\n{START_MARKER}\n{END_MARKER}\n\n## After\n\nKept.\n"


def _compare_snapshot(name: str, actual: str) -> None:
    assert_snapshot(SNAPSHOTS, name, actual)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def test_example_catalog_markdown_snapshot(example: Path) -> None:
    _compare_snapshot("example-catalog.md", render_catalog_table(load_handbook(example)))


def test_example_catalog_json_snapshot(example: Path) -> None:
    data = catalog_json(load_handbook(example))
    _compare_snapshot("example-catalog.json", json.dumps(data, indent=2) + "\n")


def test_rows_are_ordered_by_plan_id_and_link_to_the_plan(tmp_path: Path) -> None:
    _plan(tmp_path, "zeta.md", "title: Zeta\n")
    _plan(tmp_path, "alpha/index.md", "title: Alpha\nstatus: review\n")
    _plan(tmp_path, "mid.html.md", "title: Middle\n")
    lines = render_catalog_table(load_handbook(tmp_path)).splitlines()
    assert lines[0] == "| Plan | Status | Epic | Other Resources and Links |"
    assert lines[2:] == [
        "| [Alpha](./alpha) | review |  |  |",
        "| [Middle](./mid) | draft |  |  |",
        "| [Zeta](./zeta) | draft |  |  |",
    ]


def test_pipes_and_brackets_in_cells_cannot_break_the_table(tmp_path: Path) -> None:
    _plan(
        tmp_path,
        "p.md",
        'title: "A | B [WIP]"\nresources:\n  - title: "x | y"\n    url: https://e.example/a|b\n',
    )
    row = render_catalog_table(load_handbook(tmp_path)).splitlines()[2]
    assert row == ("| [A \\| B \\[WIP\\]](./p) | draft |  | [x \\| y](https://e.example/a%7Cb) |")


def test_resources_are_joined_with_br(tmp_path: Path) -> None:
    _plan(
        tmp_path,
        "p.md",
        "title: P\nresources:\n  - title: Board\n    url: https://g.example/b\n"
        "  - title: Runbook\n    url: https://g.example/r\n",
    )
    row = render_catalog_table(load_handbook(tmp_path)).splitlines()[2]
    assert row.endswith("| [Board](https://g.example/b)<br>[Runbook](https://g.example/r) |")


def test_epic_cell_is_a_link_only_when_a_url_is_known(tmp_path: Path) -> None:
    _plan(tmp_path, "by-ref.md", "title: R\nepic: security/appsec&16\n")
    _plan(tmp_path, "by-url.md", "title: U\nepic: https://gl.example/groups/sec/-/epics/4\n")
    rows = render_catalog_table(load_handbook(tmp_path)).splitlines()[2:]
    assert rows[0] == "| [R](./by-ref) | draft | security/appsec&16 |  |"
    assert (
        rows[1] == "| [U](./by-url) | draft | [sec&4](https://gl.example/groups/sec/-/epics/4) |  |"
    )

    (tmp_path / "secplan.toml").write_text('gitlab_url = "https://gitlab.com/"\n')
    rows = render_catalog_table(load_handbook(tmp_path)).splitlines()[2:]
    assert rows[0] == (
        "| [R](./by-ref) | draft | "
        "[security/appsec&16](https://gitlab.com/groups/security/appsec/-/epics/16) |  |"
    )
    data = {d["id"]: d for d in catalog_json(load_handbook(tmp_path))}
    assert data["by-ref"]["epic_url"] == "https://gitlab.com/groups/security/appsec/-/epics/16"


def test_page_without_markers_is_not_managed_and_never_stale(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    _index(tmp_path, "# Plans\n\n| Plan |\n| --- |\n| [Old](./old) |\n")
    status = catalog_status(load_handbook(tmp_path))
    assert (status.has_markers, status.stale) == (False, False)
    assert status.path == tmp_path / "index.md"


def test_handbook_without_catalog_page(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    handbook = load_handbook(tmp_path)
    status = catalog_status(handbook)
    assert (status.path, status.has_markers, status.stale) == (None, False, False)
    with pytest.raises(NotFoundError, match="no catalog page"):
        write_catalog(handbook)


def test_write_changes_only_the_lines_between_the_markers(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    index = _index(tmp_path, MANAGED)
    handbook = load_handbook(tmp_path)
    status = catalog_status(handbook)
    assert status.stale and status.has_markers and status.line == 5

    assert write_catalog(handbook) is True
    text = index.read_text(encoding="utf-8")
    before, _, rest = text.partition(START_MARKER + "\n")
    table, _, after = rest.partition(END_MARKER)
    assert before == "# Plans\n\nIntro text stays.\n\n"
    assert after == "\n\n## After\n\nKept.\n"
    assert table == render_catalog_table(handbook)
    assert not catalog_status(load_handbook(tmp_path)).stale


def test_up_to_date_catalog_is_not_touched(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    index = _index(tmp_path, MANAGED)
    assert write_catalog(load_handbook(tmp_path))
    os.utime(index, ns=(1_000_000_000, 1_000_000_000))
    assert write_catalog(load_handbook(tmp_path)) is False
    assert index.stat().st_mtime_ns == 1_000_000_000


def test_a_plan_change_makes_the_catalog_stale(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "p.md", "title: P\n")
    _index(tmp_path, MANAGED)
    write_catalog(load_handbook(tmp_path))
    plan.write_text("---\ntitle: P\nstatus: ready\n---\n# P\n", encoding="utf-8")
    status = catalog_status(load_handbook(tmp_path))
    assert status.stale and status.line == 5


def test_crlf_page_keeps_its_line_endings(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    index = _index(tmp_path, MANAGED.replace("\n", "\r\n"))
    assert write_catalog(load_handbook(tmp_path))
    data = index.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"| [P](./p) | draft |  |  |\r\n" in data
    assert not catalog_status(load_handbook(tmp_path)).stale


def test_markers_inside_fenced_code_are_ignored(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    text = f"# Plans\n\n```markdown\n{START_MARKER}\n{END_MARKER}\n```\n"
    index = _index(tmp_path, text)
    handbook = load_handbook(tmp_path)
    assert not catalog_status(handbook).has_markers
    with pytest.raises(NotFoundError, match="no '<!-- secplan:catalog -->'") as info:
        write_catalog(handbook)
    assert info.value.hint and "secplan adopt" in info.value.hint
    assert index.read_text(encoding="utf-8") == text


def test_loosely_equal_table_counts_as_current(tmp_path: Path) -> None:
    _plan(tmp_path, "p.md", "title: P\n")
    table = render_catalog_table(load_handbook(tmp_path))
    index = _index(tmp_path, f"{START_MARKER}\n\n{table}\n{END_MARKER}\n")
    handbook = load_handbook(tmp_path)
    assert not catalog_status(handbook).stale
    assert write_catalog(handbook) is False
    assert index.read_text(encoding="utf-8").startswith(f"{START_MARKER}\n\n")


def test_middleman_catalog_page_name(tmp_path: Path) -> None:
    _plan(tmp_path, "p/index.html.md", "title: P\n")
    index = _index(
        tmp_path, f"---\nlayout: x\n---\n{START_MARKER}\n{END_MARKER}\n", "index.html.md"
    )
    assert write_catalog(load_handbook(tmp_path))
    assert "| [P](./p) | draft |  |  |" in index.read_text(encoding="utf-8")


def _cells(table: str) -> list[list[tuple[str, str | None]]]:
    """Rows of (cell text, first link target) as pyromark reads the table."""
    rows: list[list[tuple[str, str | None]]] = []
    text: list[str] = []
    link: str | None = None
    options = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
    for event in pyromark.events(table, options=options):
        ev: Any = event
        if ev == {"Start": "TableRow"}:
            rows.append([])
        elif ev == {"Start": "TableCell"}:
            text, link = [], None
        elif ev == {"End": "TableCell"} and rows:
            rows[-1].append(("".join(text), link))
        elif isinstance(ev, dict) and "Start" in ev and isinstance(ev["Start"], dict):
            if "Link" in ev["Start"] and link is None:
                link = ev["Start"]["Link"]["dest_url"]
        elif isinstance(ev, dict):
            for key in ("Text", "Code"):
                if key in ev:
                    text.append(ev[key])
    return rows


@settings(max_examples=200, deadline=None)
@given(
    titles=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
        ).filter(lambda t: t.strip()),
        min_size=1,
        max_size=4,
    ),
    resource_title=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
)
def test_any_title_reads_back_exactly_from_the_table(
    titles: list[str], resource_title: str
) -> None:
    root = Path("/nonexistent-handbook")
    plans = [
        Plan(
            id=f"p{i}",
            path=root / f"p{i}.md",
            rel_path=f"p{i}.md",
            title=title,
            resources=[Link(resource_title, "https://e.example/a b|c")],
        )
        for i, title in enumerate(titles)
    ]
    handbook = Handbook(root=root, config=Config(root=root), plans=plans)
    rows = _cells(render_catalog_table(handbook))
    assert len(rows) == len(titles)
    for i, (row, title) in enumerate(zip(rows, titles, strict=True)):
        assert len(row) == 4
        assert row[0] == (" ".join(title.split()), f"./p{i}")
        shown = " ".join(resource_title.split()) or "https://e.example/a b|c"
        assert row[3] == (shown, "https://e.example/a b%7Cc")


@pytest.mark.corpora
def test_catalog_of_real_planning_documents_is_a_well_formed_table(corpora: Path) -> None:
    handbook = load_handbook(corpora, use_cache=False)  # never write a cache into the corpora
    assert len(handbook.plans) > 50
    table = render_catalog_table(handbook)
    rows = _cells(table)
    assert len(rows) == len(handbook.plans)
    plans = sorted(handbook.plans, key=lambda p: p.id)
    for row, plan in zip(rows, plans, strict=True):
        assert len(row) == 4
        assert row[0] == (" ".join((plan.title or plan.id).split()), f"./{plan.id}")
    assert json.loads(json.dumps(catalog_json(handbook)))[0]["id"] == plans[0].id
