"""Fuzz target: ``--write-back``. Never an exception; in the body only item lines change, each
by exactly its ref inserted; in the front matter only ``epic:``; the file still parses to the
same items, each carrying the ref meant for it; time in proportion to the input."""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

from hypothesis import given

from secplan.config import load_config
from secplan.handbook import load_handbook
from secplan.model import Plan
from secplan.sync.writeback import split_lines, write_back
from tests.fuzz.budget import FUZZ, within_bound
from tests.fuzz.strategies import item_lists


def _load(root: Path) -> Plan:
    (plan,) = load_handbook(root, load_config(root)).plans
    return plan


@FUZZ
@given(item_lists())
def test_write_back(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "secplan.toml").write_text('tracker = "sec/plans"\n', encoding="utf-8")
        path = root / "plan.md"
        data = text.encode("utf-8")
        path.write_bytes(data)
        plan = _load(root)
        refs = {item.id: f"sec/plans#{n + 1}" for n, item in enumerate(plan.items)}
        wb = within_bound(len(text), lambda: write_back(plan, "sec&7", refs))
        after = path.read_bytes()
        if not wb.changed:
            assert after == data  # nothing written means nothing changed, byte for byte
            return
        again = _load(root)
        assert [i.id for i in again.items] == [i.id for i in plan.items]
        for item in again.items:
            assert item.ref in (None, refs[item.id])
        old = split_lines(text.removeprefix("\ufeff"))
        new = split_lines(after.decode("utf-8").removeprefix("\ufeff"))
        # Front matter: only the epic key's lines change or appear.
        old_fm, new_fm = old[: plan.body_line - 1], new[: again.body_line - 1]
        matcher = difflib.SequenceMatcher(None, old_fm, new_fm, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                assert all("epic" in line for line in new_fm[j1:j2]), new_fm[j1:j2]
                assert all(line.lstrip().startswith("epic") for line in old_fm[i1:i2])
        # Body: the same lines, an item's line with its ref inserted once.
        old_body, new_body = old[plan.body_line - 1 :], new[again.body_line - 1 :]
        assert len(old_body) == len(new_body)
        items_at = {i.line: i for i in plan.items}
        for n, (before, now) in enumerate(zip(old_body, new_body, strict=True)):
            if before == now:
                continue
            line_no = plan.body_line + n
            item = items_at.get(line_no)
            assert item is not None, f"line {line_no} changed but holds no item: {before!r}"
            assert now.replace(" " + refs[item.id], "", 1) == before, (before, now)
