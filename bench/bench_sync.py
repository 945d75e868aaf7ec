"""Time ``secplan apply`` on the embedded store.

Scenarios (each in a fresh scratch handbook and database):

- ``1 plan x 1,000 items``: the first apply (1,000 issues created), then a no-op re-apply;
- ``100 plans x 50 items``: the first apply (5,000 issues), then a no-op re-apply.

Each re-apply is timed in-process (``apply_plans``, plans already parsed) and as the CLI
(``python -m secplan apply``, start-up, parsing and parse cache included). The number of SQL
statements of the in-process re-apply is counted too: it shows that reading the actual state is
a few batch queries, not one per item.

    python bench/bench_sync.py                          # SQLite file (the default store)
    python bench/bench_sync.py --database-url postgresql+psycopg://...   # an empty database
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "src"))

from sqlalchemy import event  # noqa: E402

from secplan.config import load_config  # noqa: E402
from secplan.handbook import load_handbook  # noqa: E402
from secplan.sync.apply import apply_plans  # noqa: E402
from secplan.tracker import open_backend  # noqa: E402


def write_handbook(root: Path, plans: int, items: int) -> None:
    """A handbook of ``plans`` plans with ``items`` task items each."""
    root.mkdir(parents=True)
    (root / "secplan.toml").write_text(
        'tracker = "bench/planning"\ngroup = "bench"\nlabels = ["security-planning"]\n',
        encoding="utf-8",
    )
    (root / "index.md").write_text("# Plans\n", encoding="utf-8")
    for p in range(plans):
        lines = [
            "---",
            f"title: Hardening plan {p}",
            "status: ready",
            "labels: [hardening]",
            "milestones:",
            f"  - title: Phase {p % 5}",
            "    due: 2027-06-30",
            "---",
            "",
            f"# Hardening plan {p}",
            "",
            "## Work",
            "",
        ]
        for i in range(items):
            lines.append(f'- [ ] Harden service {i} of plan {p} %"Phase {p % 5}" ~svc-{i % 7}')
            lines.append(
                f"  Apply the baseline to service {i}, record the result in the register and "
                "attach the evidence to the issue."
            )
            lines.append(f"  Acceptance: service {i} passes the baseline scan.")
        (root / f"plan-{p:03d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


class StatementCounter:
    """Counts SQL statements sent through an engine."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *_args: Any) -> None:
        self.count += 1


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def cli_apply(root: Path, database_url: str | None) -> float:
    args = [sys.executable, "-m", "secplan", "apply", "--root", str(root)]
    if database_url:
        args += ["--database-url", database_url]
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"apply failed:\n{done.stderr}")
    if "+ created" in done.stdout or "~ updated" in done.stdout:
        raise SystemExit("the re-apply was not a no-op")
    return elapsed


def reset_database(database_url: str) -> None:
    """Drop every table of a PostgreSQL bench database, so each scenario starts empty."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def scenario(name: str, plans: int, items: int, database_url: str | None) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="secplan-bench-sync-"))
    try:
        root = scratch / "handbook"
        write_handbook(root, plans, items)
        if database_url:
            reset_database(database_url)
        config = load_config(root)
        t_load, handbook = timed(lambda: load_handbook(root, config))
        with open_backend(config, database_url=database_url) as backend:
            tracker, state = backend.tracker, backend.state()
            t_first, first = timed(
                lambda: apply_plans(tracker, state, handbook.plans, config, all_plans=True)
            )
            assert first.ok, first.failed[:3]
            # The first re-apply may still write bookkeeping (records of milestones shared by
            # several plans); the second is the steady state that is measured.
            apply_plans(tracker, state, handbook.plans, config, all_plans=True)
            counter = StatementCounter(backend.store.engine)
            t_again, again = timed(
                lambda: apply_plans(tracker, state, handbook.plans, config, all_plans=True)
            )
            assert again.writes == 0
        t_cli = cli_apply(root, database_url)
        total = plans * items
        print(f"{name}:")
        print(f"  parse {plans} plan(s)                 {t_load:8.2f} s")
        print(
            f"  first apply ({total} issues)          {t_first:8.2f} s"
            f"  ({1000 * t_first / total:.1f} ms/issue, {first.writes} writes)"
        )
        print(
            f"  no-op re-apply, in-process           {t_again:8.2f} s"
            f"  ({counter.count} SQL statements)"
        )
        print(f"  no-op re-apply, CLI (warm cache)     {t_cli:8.2f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL database to use (emptied first)")
    parser.add_argument("--only", choices=["1000", "100x50"], help="run one scenario")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, "
        f"store: {'PostgreSQL' if args.database_url else 'SQLite file'}"
    )
    if args.only in (None, "1000"):
        scenario("1 plan x 1,000 items", 1, 1000, args.database_url)
    if args.only in (None, "100x50"):
        scenario("100 plans x 50 items", 100, 50, args.database_url)


if __name__ == "__main__":
    main()
