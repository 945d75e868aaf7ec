"""Real planning documents (../shared/corpora) render without error, ids matching the parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secplan.handbook import load_handbook
from secplan.markdown.render import render_markdown

pytestmark = pytest.mark.corpora


def test_every_corpus_document_renders_safely(corpora: Path) -> None:
    rendered = 0
    for root in sorted(p for p in corpora.iterdir() if p.is_dir()):
        handbook = load_handbook(root, use_cache=False)
        for plan in handbook.plans:
            lines = plan.path.read_text(encoding="utf-8", errors="replace").split("\n")
            body = "\n".join(lines[plan.body_line - 1 :])
            out = render_markdown(body, plan.sections, line_offset=plan.body_line - 1).html
            rendered += 1
            assert "<script" not in out.lower(), plan.rel_path
            assert not re.search(r"<[a-z][^>]*\son[a-z]+=", out), plan.rel_path
            ids = set(re.findall(r'<h[1-6] id="([^"]+)"', out))
            # Every Markdown heading the parser saw carries the parser's anchor.
            missing = {s.anchor for s in plan.sections} - ids
            assert not missing, (plan.rel_path, sorted(missing)[:5])
    assert rendered > 50
