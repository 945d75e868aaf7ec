"""Parse many plan files on every available core.

Workers return each plan as the JSON text the cache stores (one string pickles cheaply, and
the cache needs it anyway); the caller rebuilds plans from it while the workers go on. Small
batches and busy machines stay serial: a worker pool costs more to start than a few hundred
plans cost to parse, and rebuilding plans from JSON is extra work that only pays off when
the workers have cores of their own.
"""

from __future__ import annotations

import gc
import json
import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from secplan.handbook.serialize import plan_to_data
from secplan.model import Plan

#: Below this many files to parse, parsing stays in this process.
PARALLEL_MIN_FILES = 400
#: Overrides the number of parsing processes (1 = never parallel).
JOBS_ENV = "SECPLAN_JOBS"
#: Files per task sent to a worker.
CHUNK = 64


class ParseJob(NamedTuple):
    """One file to parse, with everything ``parse_plan`` needs."""

    text: str
    plan_id: str
    path: str
    rel_path: str
    flavour: str
    default_project: str | None
    default_group: str | None
    content_hash: str


def parse_job(job: ParseJob) -> Plan:
    """Parse one job's text into a plan."""
    from secplan.markdown.parser import parse_plan  # only when something is parsed

    return parse_plan(
        job.text,
        plan_id=job.plan_id,
        path=Path(job.path),
        rel_path=job.rel_path,
        flavour=job.flavour,
        default_project=job.default_project,
        default_group=job.default_group,
        content_hash=job.content_hash,
    )


def plan_json(plan: Plan) -> str:
    """A plan as the cache stores it."""
    return json.dumps(plan_to_data(plan), separators=(",", ":"), default=str)


def _parse_chunk(jobs: list[ParseJob]) -> list[str]:
    gc.disable()  # parsing creates no cycles; see load_handbook
    return [plan_json(parse_job(job)) for job in jobs]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def idle_cores() -> float:
    """Cores not busy with other work, from the one-minute load average."""
    cores = available_cores()
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this system
        return float(cores)
    return max(0.0, cores - load)


def worker_count(files: int, jobs: int | None) -> int:
    """How many processes should parse ``files`` files (1: parse here).

    Left to itself (``jobs`` None, no ``SECPLAN_JOBS``) it parses in parallel only with
    hundreds of files and at least two idle cores: on a busy machine workers only compete
    with the rest for the same cores and cost more CPU time than they save.
    """
    if jobs is None:
        env = os.environ.get(JOBS_ENV, "").strip()
        jobs = int(env) if env.isdigit() and int(env) > 0 else None
        if jobs is None:
            if files < PARALLEL_MIN_FILES:
                return 1
            jobs = min(available_cores(), int(idle_cores() + 0.5))
    return max(1, min(jobs, files // 2 or 1))


def parse_parallel(chunks: Iterable[list[ParseJob]], workers: int) -> Iterator[list[str]]:
    """The cache JSON of every chunk's jobs, chunk by chunk in order, parsed by ``workers``
    processes.

    Chunks are taken from ``chunks`` only a few ahead of the results, so the texts waiting to
    be parsed and the results waiting to be read stay a few chunks' worth.
    """
    # Imported here: a check that parses nothing (a warm one) should not pay for them.
    import multiprocessing
    import threading
    from concurrent.futures import Future, ProcessPoolExecutor

    # fork is cheap (nothing to import again) but unsafe once other threads run (a web
    # server); then a fresh interpreter per worker is the safe choice.
    method = "fork" if threading.active_count() == 1 else "spawn"
    context = multiprocessing.get_context(method)
    ahead = 2 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[list[str]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_chunk, chunk))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
