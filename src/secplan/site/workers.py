"""Plan pages rendered in worker processes, one per core, for builds that render many.

Rendering a plan page (Markdown, sanitising, lint, the template) is pure CPU in one thread, so a
cold build of thousands of plans uses one core. The workers are forked from the builder once
everything a plan page needs is loaded (plans, tracker snapshot, links), so they inherit it
instead of loading it again; each renders a chunk of plans and writes their files itself (each
file belongs to one plan), and sends back what the builder keeps: the manifest entry, the
link-check records and which files it wrote. Chunks come back in order, so the report and the
manifest are the same as a build in one process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from secplan.handbook.parallel import JOBS_ENV, available_cores
from secplan.model import Plan
from secplan.site.linkcheck import PageLinks
from secplan.site.manifest import PlanEntry

#: Below this many plans to render, they are rendered in the builder's process.
PARALLEL_MIN_PLANS = 64
#: Plans per task sent to a worker (at most).
CHUNK = 16


@dataclass
class Rendered:
    """What rendering one plan left behind, for the builder to merge."""

    plan_id: str
    entry: PlanEntry
    records: dict[str, PageLinks]
    written: list[str]
    kept: int


class PlanRenderer(Protocol):
    """The builder, as the workers use it."""

    def render_plan(self, plan: Plan, key: str) -> Rendered:
        """Render and write one plan's files."""
        ...  # pragma: no cover - a protocol

    def after_fork(self) -> None:
        """Drop what a forked process may not share with its parent (database connections)."""
        ...  # pragma: no cover - a protocol


def worker_count(plans: int) -> int:
    """How many processes render ``plans`` plans (1: the builder's own)."""
    env = os.environ.get(JOBS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        jobs = int(env)
    elif plans < PARALLEL_MIN_PLANS:
        return 1
    else:
        jobs = available_cores()
    return max(1, min(jobs, plans))


# The forked workers find the builder and the work here (inherited, never pickled).
_RENDERER: PlanRenderer | None = None
_TODO: Sequence[tuple[Plan, str]] = ()


def _start() -> None:
    if _RENDERER is not None:
        _RENDERER.after_fork()


def _render_chunk(bounds: tuple[int, int]) -> list[Rendered]:
    assert _RENDERER is not None
    return [_RENDERER.render_plan(plan, key) for plan, key in _TODO[bounds[0] : bounds[1]]]


def render_all(renderer: PlanRenderer, todo: Sequence[tuple[Plan, str]]) -> Iterator[Rendered]:
    """Every plan of ``todo`` (plan, manifest key) rendered, in order: in workers when there
    are many, else (or when no process can be had) here."""
    global _RENDERER, _TODO
    workers = worker_count(len(todo))
    done = 0
    # fork only while this process runs one thread (a forked lock held elsewhere deadlocks).
    if workers > 1 and threading.active_count() == 1 and hasattr(os, "fork"):
        import multiprocessing

        _RENDERER, _TODO = renderer, todo
        # Several chunks a worker, so one that draws the big plans does not hold up the end.
        size = max(1, min(CHUNK, len(todo) // (4 * workers)))
        chunks = [(i, min(i + size, len(todo))) for i in range(0, len(todo), size)]
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers, initializer=_start) as pool:
                for results in pool.imap(_render_chunk, chunks):
                    yield from results
                    done += len(results)
        except (OSError, RuntimeError):
            pass  # no (more) processes to be had: render the rest here
        finally:
            _RENDERER, _TODO = None, ()
    for plan, key in todo[done:]:
        yield renderer.render_plan(plan, key)
