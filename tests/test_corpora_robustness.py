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
