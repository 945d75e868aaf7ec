"""What a rule may know beyond its plan: the handbook's plan ids, config, review threads.

A rule reads other plans, review threads and files only through this context (its fields and
methods): the findings cache (:mod:`secplan.lint.incremental`) writes those reads down per
plan and re-checks a plan whenever one of them would now answer differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from secplan.config import Config
from secplan.handbook.conventions import known_keys, status_words
from secplan.markdown.fields import KNOWN_KEYS  # not the YAML reader's: a warm check needs no YAML
from secplan.model import Plan

#: Statuses whose plans are judged leniently (only front matter and SP403).
LENIENT_STATUSES: frozenset[str] = frozenset({"abandoned", "superseded"})
#: Statuses ``--require ready`` lifts to ``ready`` ("is it done?").
BEFORE_READY: frozenset[str] = frozenset({"draft", "review"})


def key_line(plan: Plan, key: str) -> int:
    """File line of a front-matter key (line 1, the opening fence, when the key is absent)."""
    return plan.front_matter_lines.get(key, 1)


def front_matter_broken(plan: Plan) -> bool:
    """The front matter is not YAML at all (SP106): every key looks missing, say nothing more."""
    return not plan.front_matter and any(d.code == "SP106" for d in plan.diagnostics)


@dataclass
class LintContext:
    """Everything rules share for one run."""

    root: Path
    config: Config
    require_ready: bool = False
    #: plan id -> number of unresolved review threads (filled by the CLI from the tracker store).
    open_threads: Mapping[str, int] = field(default_factory=dict)
    #: Every plan id of the handbook, including plans not parsed in this run.
    plan_ids: AbstractSet[str] = field(default_factory=set)
    #: The plans parsed in this run, by id.
    plans_by_id: Mapping[str, Plan] = field(default_factory=dict)
    #: False when only some paths were checked: handbook-wide rules (the catalog) then stay quiet.
    whole_handbook: bool = True
    #: Every epic of the tracker (``group/sub&iid``), or None when no tracker could be read.
    known_epics: frozenset[str] | None = None
    #: Another plan's anchor ids by plan id, when they are known without its Plan object.
    anchor_lookup: Callable[[str], AbstractSet[str] | None] | None = None
    #: Cross-plan reads of the plan being checked, as (kind, key), for the findings cache.
    trace: list[tuple[str, str]] | None = None

    _anchor_cache: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _catalog_epics: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        #: Front-matter keys SP105 accepts, and status word -> status (SP102), once per run.
        self.known_keys: frozenset[str] = known_keys(self.config, KNOWN_KEYS)
        self.status_words: dict[str, str] = status_words(self.config)

    def catalog_epic(self, plan: Plan) -> str | None:
        """The epic the catalog page's hand-written table links for ``plan``, if any."""
        if self._catalog_epics is None:
            from secplan.lint.catalog_links import catalog_epics

            self._catalog_epics = catalog_epics(self.root, self.plans_by_id)
        return self._catalog_epics.get(plan.id)

    def plan_anchor_ids(self, plan_id: str) -> AbstractSet[str] | None:
        """The anchor ids of plan ``plan_id``; None when it was not parsed in this run."""
        if self.trace is not None:
            self.trace.append(("anchors", plan_id))
        if self.anchor_lookup is not None:
            return self.anchor_lookup(plan_id)
        plan = self.plans_by_id.get(plan_id)
        return None if plan is None else self.anchor_ids(plan)

    def path_exists(self, rel_path: str) -> bool:
        """Whether a file or folder exists at this root-relative path."""
        if self.trace is not None:
            self.trace.append(("path", rel_path))
        return (self.root / rel_path).exists()

    def anchor_ids(self, plan: Plan) -> set[str]:
        """``plan.anchor_ids()``, computed once per plan per run (links to a plan are many)."""
        ids = self._anchor_cache.get(plan.id)
        if ids is None:
            ids = self._anchor_cache[plan.id] = plan.anchor_ids()
        return ids

    def status_phrase(self, plan: Plan) -> str:
        """``is `ready``` — or ``is `draft` (judged as `ready`)`` under ``--require ready``."""
        judged = self.status(plan)
        if judged != plan.status:
            return f"is `{plan.status}` (judged as `{judged}`)"
        return f"is `{judged}`"

    def status(self, plan: Plan) -> str:
        """The status a plan is judged at: its own, or ``ready`` under ``--require ready``."""
        if self.require_ready and plan.status in BEFORE_READY:
            return "ready"
        return plan.status
