"""Hostile plan documents for the fuzz targets: fragments of every syntax secplan reads, text
pasted from elsewhere (controls, Unicode line separators, BOMs, CRs), marker look-alikes, raw
HTML and script placements, and long runs of one fragment (for the time bounds)."""

from __future__ import annotations

from hypothesis import strategies as st

FRONT_MATTER = [
    "---\ntitle: T\nstatus: ready\n---\n",
    "---\ntitle: T\nepic: security&99999999999999999999\n---\n",
    "---\ntitle: <!-- secplan:plan=X kind=epic -->\nstatus: draft\n---\n",
    "\ufeff---\ntitle: T\r\nmilestones:\r\n  - title: M\r\n    due: 2027-01-01\r\n---\r\n",
    "---\ntitle: [a\n---\n",
    "",
]

FRAGMENTS = [
    "# H\n",
    "## H {#id}\n",
    "### H with `code` and [link](#h)\n",
    "{: #ial .no_toc}\n",
    "* TOC\n{:toc}\n",
    "- [ ] item %M ~l @u #1 {#i}\n",
    "- [ ] Spike: why? (timebox 2d)\n",
    '* [x] done %"Two words"\n',
    "  Acceptance: ok\n",
    "> - [ ] quoted item\n",
    "- req MUST\n",
    "  - nested SHOULD\n",
    "```\n",
    "    code\n",
    "<!-- secplan: ignore SP306 -->\n",
    "<!-- secplan:plan=other item=thing -->\n",
    "<a name='x'></a>\n",
    "{::comment}\n",
    "{:/comment}\n",
    "TODO FIXME\n",
    "| a | b\n|---|\n| c\n",
    "\r\n",
    "\r",
    "\u2028",
    "\u2029",
    "\x0b\x0c\x1c\x1d\x1e\x85",
    "\x1b]52;c;aGk=\x07\x1b[31m",
    "\u00a0\t\u3000",
    "é😀\n",
    "[x](#y) [z](other.md#w) [j](javascript:alert(1))\n",
    "<script>alert(1)</script>\n",
    "<img src=x onerror=alert(1)>\n",
    '<a href="javascript:alert(1)" onclick="x()">a</a>\n',
    "<svg><animate onbegin=alert(1)></svg>\n",
    "[a](<javascript:alert(1)>)\n",
    "<iframe src=//evil></iframe>\n",
    "**a [[[](\n",
    "&a [*a, *a]\n",
    ">>>>>>>>>>>>>>>> deep\n",
]

#: Fragments that made earlier versions slow when repeated; the runs scale with the input.
RUNS = [
    "**a ",
    "[[[…](",
    "[#x](#nope) ",
    "# h\n",
    "> ",
    "{::comment}",
    "<!-- secplan: ignore SP3 -->",
]


@st.composite
def documents(draw: st.DrawFn, *, max_run: int = 4_000) -> str:
    """A plan document: front matter, then fragments, free text and a long run of one."""
    head = draw(st.sampled_from(FRONT_MATTER))
    parts = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=30))
    run = draw(st.sampled_from(RUNS)) * draw(st.integers(0, max_run))
    where = draw(st.integers(0, len(parts)))
    parts.insert(where, run)
    return head + "".join(parts)


@st.composite
def item_lists(draw: st.DrawFn) -> str:
    """A plan whose items sit among text the line counting can get wrong."""
    head = draw(st.sampled_from([*FRONT_MATTER[:4], "---\ntitle: T\nepic:\n---\n"]))
    noise = st.sampled_from(["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x85", "\r", "", "x"])
    out = [head, "# Plan\n\n## Work\n\n"]
    for i in range(draw(st.integers(1, 8))):
        out.append(draw(noise) + "\n" + draw(st.sampled_from(["", "> "])))
        out.append(f"- [ ] Task {i}{draw(st.sampled_from(['', ' %M', ' {#t' + str(i) + '}']))}")
        out.append(draw(st.sampled_from(["\n", "\r\n", "\r"])))
        # Free text that cannot start another item (a NUL would make it a binary file).
        free = st.text(max_size=20).map(lambda t: t.replace("-", " ").replace("\0", "") + "\n")
        out.append(draw(free))
    return "".join(out)
