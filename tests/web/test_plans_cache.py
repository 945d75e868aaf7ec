"""The live view of a handbook the server keeps: files by their own paths, the anchor flavour."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from secplan.markdown.render import render_markdown
from secplan.web.plans_cache import PlansCache


def test_plan_pages_name_unreported_headings_in_the_handbooks_flavour(tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text('anchor_flavour = "kramdown"\n', "utf-8")
    (tmp_path / "plan.md").write_text("---\ntitle: K\n---\n\n# K\n\n## Step 2.x & co\n", "utf-8")
    cache = PlansCache(tmp_path)
    plan = cache.get("plan")
    assert plan is not None
    assert [s.anchor for s in plan.sections] == ["k", "step-2x--co"]
    # A plan whose headings the parser did not report (e.g. its file changed since): the
    # renderer names them itself, and must use the handbook's flavour, not GitLab's.
    unreported = dataclasses.replace(plan, sections=[], content_hash="unreported")
    ids = re.findall(r'<h[1-6] id="([^"]+)"', cache.rendered(unreported).html)
    assert ids == ["k", "step-2x--co"]
    gitlab = render_markdown("# K\n\n## Step 2.x & co\n", flavour="gitlab")
    assert [e.anchor for e in gitlab.toc] == ["k", "step-2x-co"]  # what it would be otherwise


def test_a_symlinked_plan_and_its_target_both_follow_edits(tmp_path: Path) -> None:
    """Files are known by their own paths: a link and its target are two plans, both live."""
    (tmp_path / "real.md").write_text("---\ntitle: Real\n---\n\n# Before\n", "utf-8")
    (tmp_path / "alias.md").symlink_to("real.md")
    cache = PlansCache(tmp_path, scan_interval=0.0)
    assert [p.id for p in cache.plans()] == ["alias", "real"]
    st = (tmp_path / "real.md").stat()
    (tmp_path / "real.md").write_text("---\ntitle: Real\n---\n\n# After the edit\n", "utf-8")
    os.utime(tmp_path / "real.md", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    for plan_id in ("alias", "real"):
        plan = cache.get(plan_id)
        assert plan is not None and [s.title for s in plan.sections] == ["After the edit"]
    (tmp_path / "alias.md").unlink()
    assert [p.id for p in cache.plans()] == ["real"]
