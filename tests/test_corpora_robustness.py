"""Real planning documents by others (KEPs, GitLab design docs, security assessments).

Every Markdown file in ``../shared/corpora`` must load without an exception, with every line
number inside its file. The cache is off: the shared folder must not be written to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secplan.handbook import load_handbook
from secplan.handbook.loader import read_plan_text
from secplan.markdown import parse_plan

pytestmark = pytest.mark.corpora


def test_every_corpus_file_loads(corpora: Path) -> None:
    files = sorted(corpora.rglob("*.md"))
    assert files, "the corpora folder holds no Markdown"
    for root in sorted(p for p in corpora.iterdir() if p.is_dir()):
        hb = load_handbook(root, use_cache=False)
        assert not (root / ".secplan").exists()
        for plan in hb.plans:
            last = plan.path.read_text(encoding="utf-8").count("\n") + 1
            things = (*plan.sections, *plan.items, *plan.requirements, *plan.markers)
            for thing in (*things, *plan.links, *plan.anchors, *plan.diagnostics):
                assert 1 <= thing.line <= last, (plan.rel_path, thing)
        assert len(hb.plans) + len(hb.errors) >= 1


@pytest.mark.parametrize("flavour", ["gitlab", "kramdown"])
def test_every_corpus_file_parses_in_both_flavours(corpora: Path, flavour: str) -> None:
    parsed = 0
    for path in sorted(corpora.rglob("*.md")):
        result = read_plan_text(path, path.name)
        if isinstance(result, tuple):
            plan = parse_plan(result[0], plan_id=path.stem, flavour=flavour)
            assert all(s.anchor for s in plan.sections)
            parsed += 1
    assert parsed > 0


def test_corpora_hold_real_structure(corpora: Path) -> None:
    plans = [
        p
        for root in corpora.iterdir()
        if root.is_dir()
        for p in load_handbook(root, use_cache=False).plans
    ]
    assert sum(len(p.sections) for p in plans) > 100
    assert sum(len(p.items) for p in plans) > 0
    assert sum(len(p.links) for p in plans) > 100


def test_corpora_through_the_cache_are_the_parsed_plans(corpora: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "corpora"
    shutil.copytree(corpora, copy, ignore=shutil.ignore_patterns(".secplan", ".git"))
    parsed = load_handbook(copy, use_cache=False, jobs=1)
    cold = load_handbook(copy, jobs=2)  # parsed in worker processes, cache written
    warm = load_handbook(copy)  # every plan from the cache
    assert cold.plans == parsed.plans and warm.plans == parsed.plans
    assert cold.errors == parsed.errors and warm.errors == parsed.errors


def test_corpus_marker_contexts_start_and_end_on_word_boundaries(corpora: Path) -> None:
    seen = 0
    for root in sorted(p for p in corpora.iterdir() if p.is_dir()):
        for plan in load_handbook(root, use_cache=False).plans:
            lines = plan.path.read_text(encoding="utf-8").splitlines()
            for marker in plan.markers:
                line = lines[marker.line - 1]
                start = line.find(marker.context)
                assert start >= 0, (plan.rel_path, marker)
                end = start + len(marker.context)
                # A cut lands on a blank; only a run without blanks is cut at the marker
                # (start) or mid-run (end).
                at_marker = marker.context.startswith(marker.text)
                unbroken_tail = " " not in marker.context.split(marker.text, 1)[1]
                assert start == 0 or line[start - 1] in " \t" or at_marker, (plan.rel_path, marker)
                assert end == len(line) or line[end] in " \t" or unbroken_tail, (
                    plan.rel_path,
                    marker,
                )
                assert marker.text in marker.context
                seen += 1
    assert seen > 0
