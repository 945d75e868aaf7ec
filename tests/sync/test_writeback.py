"""``--write-back``: only the lines meant to change change, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

from secplan.config import load_config
from secplan.handbook import load_handbook
from secplan.model import Plan
from secplan.sync.writeback import write_back

PLAN = """\
---
title: Token hardening   # the title
status: ready
layout: handbook-page-toc
labels: [tokens]
milestones:
  - title: Audit
    due: 2027-03-19
---

# Token hardening

## Audit

- [ ] Inventory long-lived tokens %Audit ~inventory
  Export every token older than 90 days with its owner and scopes.
- [ ] Spike: can we expire tokens? (timebox 3d) %Audit {#expiry-spike}
  Try it on staging.
* [x] Done already %Audit

```md
- [ ] Not an item, inside code
```
"""


def load_plan(root: Path, text: str, newline: str = "\n") -> Plan:
    root.mkdir(exist_ok=True)
    (root / "secplan.toml").write_text('tracker = "sec/plans"\n', encoding="utf-8")
    path = root / "tokens.md"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    (plan,) = load_handbook(root, load_config(root)).plans
    return plan


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, before.splitlines(keepends=True), after.splitlines(keepends=True)
    ).get_opcodes():
        if tag != "equal":
            out.append(
                (
                    "".join(before.splitlines(keepends=True)[i1:i2]),
                    "".join(after.splitlines(keepends=True)[j1:j2]),
                )
            )
    return out


def test_adds_epic_and_item_refs_and_nothing_else(tmp_path: Path):
    plan = load_plan(tmp_path, PLAN)
    refs = {"inventory-long-lived-tokens": "sec/plans#4", "expiry-spike": "sec/plans#5"}
    wb = write_back(plan, "sec&2", refs)
    after = plan.path.read_text(encoding="utf-8")
    assert changed_lines(PLAN, after) == [
        ("", "epic: sec&2\n"),
        (
            "- [ ] Inventory long-lived tokens %Audit ~inventory\n",
            "- [ ] Inventory long-lived tokens %Audit ~inventory sec/plans#4\n",
        ),
        (
            "- [ ] Spike: can we expire tokens? (timebox 3d) %Audit {#expiry-spike}\n",
            "- [ ] Spike: can we expire tokens? (timebox 3d) %Audit sec/plans#5 {#expiry-spike}\n",
        ),
    ]
    assert sorted(wb.changed_lines) == [9, 15, 17]
    # The parser reads back what was written.
    (again,) = load_handbook(tmp_path, load_config(tmp_path)).plans
    assert again.epic == "sec&2"
    assert {i.id: i.ref for i in again.items if i.ref} == refs
    assert again.front_matter["layout"] == "handbook-page-toc"
    # A second write-back with the same refs changes nothing.
    assert not write_back(again, "sec&2", refs).changed
    assert plan.path.read_text(encoding="utf-8") == after


def test_empty_epic_key_is_filled_in_place_and_crlf_is_kept(tmp_path: Path):
    text = PLAN.replace("status: ready\n", "status: ready\nepic:   # set by apply\n")
    plan = load_plan(tmp_path, text, newline="\r\n")
    before = plan.path.read_bytes()
    write_back(plan, "sec&7", {"inventory-long-lived-tokens": "sec/plans#1"})
    after = plan.path.read_bytes()
    assert after.count(b"\r\n") == before.count(b"\r\n")
    assert b"\nepic: sec&7\r\n" in after
    assert b"epic:   # set by apply" not in after
    diff = changed_lines(before.decode(), after.decode())
    assert len(diff) == 2


def test_existing_epic_and_refs_are_never_replaced(tmp_path: Path):
    text = PLAN.replace("status: ready\n", "status: ready\nepic: sec&1\n").replace(
        "%Audit ~inventory", "%Audit ~inventory sec/plans#3"
    )
    plan = load_plan(tmp_path, text)
    wb = write_back(plan, "sec&9", {"inventory-long-lived-tokens": "sec/plans#8"})
    assert not wb.changed
    assert plan.path.read_text(encoding="utf-8") == text


def test_null_epic_with_comments_and_quotes_elsewhere_kept(tmp_path: Path):
    text = PLAN.replace(
        "status: ready\n", "status: 'ready'   # quoted on purpose\nepic: ~\nowners: [a, b]\n"
    )
    plan = load_plan(tmp_path, text)
    wb = write_back(plan, "sec/team&3", {})
    after = plan.path.read_text(encoding="utf-8")
    assert changed_lines(text, after) == [("epic: ~\n", "epic: sec/team&3\n")]
    assert wb.changed_lines == [4]


def test_front_matter_that_is_not_a_mapping_is_skipped_with_a_reason(tmp_path: Path):
    plan = load_plan(tmp_path, PLAN)
    plan.path.write_text("---\n- just\n- a list\n---\n\n# T\n", encoding="utf-8")
    wb = write_back(plan, "sec&2", {})
    assert not wb.changed
    assert wb.skipped and "front matter" in wb.skipped[0]
    assert plan.path.read_text(encoding="utf-8") == "---\n- just\n- a list\n---\n\n# T\n"


REFS = {"inventory-long-lived-tokens": "sec/plans#4", "expiry-spike": "sec/plans#5"}


def _item_refs(root: Path) -> dict[str, str | None]:
    (plan,) = load_handbook(root, load_config(root)).plans
    return {i.id: i.ref for i in plan.items}


def test_line_separators_the_parser_does_not_count_never_shift_refs(tmp_path: Path):
    # Text pasted from a word processor: str.splitlines() would see extra lines here.
    odd = "Pasted\u2028text\u2029with\x0bodd\x0cbreaks\x1c\x1d\x1e\x85here."
    plan = load_plan(tmp_path, PLAN.replace("# Token hardening\n", f"# Token hardening\n\n{odd}\n"))
    wb = write_back(plan, None, REFS)
    assert not wb.skipped
    refs = _item_refs(tmp_path)
    assert refs["inventory-long-lived-tokens"] == "sec/plans#4"
    assert refs["expiry-spike"] == "sec/plans#5"
    assert odd in plan.path.read_text(encoding="utf-8")


def test_file_changed_after_apply_refs_follow_their_items(tmp_path: Path):
    plan = load_plan(tmp_path, PLAN)  # the plan as apply saw it
    # Someone inserts an item above the others before write-back runs.
    plan.path.write_text(
        PLAN.replace("## Audit\n\n", "## Audit\n\n- [ ] A new first item\n"), encoding="utf-8"
    )
    wb = write_back(plan, None, REFS)
    assert not wb.skipped
    refs = _item_refs(tmp_path)
    assert refs == {
        "a-new-first-item": None,
        "inventory-long-lived-tokens": "sec/plans#4",
        "expiry-spike": "sec/plans#5",
        "done-already": None,
    }


def test_item_gone_or_changed_after_apply_gets_no_ref(tmp_path: Path):
    plan = load_plan(tmp_path, PLAN)
    edited = PLAN.replace(
        "Inventory long-lived tokens %Audit", "Inventory long-lived tokens x %Audit"
    )
    edited = edited.replace("%Audit {#expiry-spike}", "%Enforce {#expiry-spike}")
    plan.path.write_text(edited, encoding="utf-8")
    wb = write_back(plan, None, REFS)
    assert not wb.changed
    assert any("no longer in the file" in why for why in wb.skipped)
    assert any("changed since apply" in why for why in wb.skipped)
    assert plan.path.read_text(encoding="utf-8") == edited


def test_bom_file_gets_its_epic(tmp_path: Path):
    plan = load_plan(tmp_path, "\ufeff" + PLAN)
    wb = write_back(plan, "sec&2", REFS)
    assert not wb.skipped
    data = plan.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\n")
    assert _item_refs(tmp_path)["expiry-spike"] == "sec/plans#5"
    (again,) = load_handbook(tmp_path, load_config(tmp_path)).plans
    assert again.epic == "sec&2"
    assert changed_lines(PLAN, data.decode("utf-8").removeprefix("\ufeff"))[0] == (
        "",
        "epic: sec&2\n",
    )


def test_mixed_line_ends_stay_as_they_were_on_untouched_lines(tmp_path: Path):
    lines = PLAN.split("\n")
    # CRLF on odd lines, LF on even ones, front matter included.
    text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1]))
    plan = load_plan(tmp_path, text)
    write_back(plan, "sec&2", REFS)
    after = plan.path.read_bytes().decode("utf-8")
    diff = changed_lines(text, after)
    # Only the epic line is new, and each item line keeps its own ending.
    assert len(diff) == 3 and diff[0][0] == "" and diff[0][1].startswith("epic: sec&2")
    for old, new in diff[1:]:
        assert old.startswith("- [ ] ") and old.endswith(("}\r\n", "y\r\n", "}\n", "y\n"))
        assert (old.endswith("\r\n"), old.endswith("\n")) == (
            new.endswith("\r\n"),
            new.endswith("\n"),
        )
    assert "\n".join(after.splitlines()).count("\n") == "\n".join(text.splitlines()).count("\n") + 1


def test_cr_only_file_gets_epic_and_refs(tmp_path: Path):
    plan = load_plan(tmp_path, PLAN, newline="\r")
    wb = write_back(plan, "sec&2", REFS)
    assert not wb.skipped
    after = plan.path.read_bytes()
    assert b"\n" not in after
    assert b"\repic: sec&2\r" in after
    assert _item_refs(tmp_path)["inventory-long-lived-tokens"] == "sec/plans#4"


def test_items_inside_a_blockquote_get_their_refs(tmp_path: Path):
    quoted = "> - [ ] Quoted item %Audit\n>   Its description.\n"
    plan = load_plan(tmp_path, PLAN + "\n" + quoted)
    assert "quoted-item" in {i.id for i in plan.items}
    wb = write_back(plan, None, {"quoted-item": "sec/plans#9"})
    assert not wb.skipped
    assert "> - [ ] Quoted item %Audit sec/plans#9\n" in plan.path.read_text(encoding="utf-8")
    assert _item_refs(tmp_path)["quoted-item"] == "sec/plans#9"


def test_write_back_runs_while_apply_still_holds_its_lock(tmp_path: Path):
    import pytest

    from secplan.errors import LockedError
    from secplan.store.engine import open_store
    from secplan.sync.apply import ApplyResult, apply_plans
    from secplan.sync.lock import apply_lock
    from secplan.sync.state import StoreState
    from secplan.tracker.local import LocalTracker

    plan = load_plan(tmp_path / "h", PLAN)
    seen: list[ApplyResult] = []

    def on_applied(result: ApplyResult) -> None:
        # Another apply (its own connection, as another process would have) is locked out.
        with open_store(tmp_path / "h") as other, pytest.raises(LockedError), apply_lock(other):
            pass
        seen.append(result)

    with open_store(tmp_path / "h") as store:
        result = apply_plans(
            LocalTracker(store),
            StoreState(store, "local"),
            [plan],
            load_config(tmp_path / "h"),
            on_applied=on_applied,
        )
    assert seen == [result] and result.completed == [plan.id]
