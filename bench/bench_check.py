"""Time ``secplan check`` next to a bare pyromark parse of the same files.

For each handbook it reports:

- ``pyromark``: read every Markdown file and drain ``pyromark.events_with_range`` (the floor:
  no front matter, no model, no rules);
- ``load``: :func:`secplan.handbook.load_handbook` without the cache, in one process and in
  one worker process per core (the parser's own cost), then with the cache filled;
- ``check in-process cold/warm``: :func:`secplan.lint.runner.run_check` with an empty parse
  cache, then again with the cache filled;
- ``check CLI cold/warm``: ``python -m secplan check ROOT`` as a subprocess (start-up included).

Handbooks measured: the ones named on the command line, ``../shared/corpora`` (skipped when
absent) and, with ``--plans N``, a synthetic handbook of N plans made from the example plans.
Every handbook is copied to a scratch directory first, so the cache never lands in the source.

    python bench/bench_check.py                      # example handbook, corpora, 10,000 plans
    python bench/bench_check.py --plans 1000 DIR     # a smaller synthetic handbook, plus DIR
    python bench/bench_check.py --generate 10000 --out /tmp/hb   # only write the handbook
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "examples" / "handbook"
CORPORA = PROJECT.parent / "shared" / "corpora"
sys.path.insert(0, str(PROJECT / "src"))

import pyromark  # noqa: E402

from secplan.handbook import load_handbook  # noqa: E402
from secplan.handbook.catalog import END_MARKER, START_MARKER, write_catalog  # noqa: E402
from secplan.handbook.parallel import available_cores  # noqa: E402
from secplan.lint.runner import CheckOptions, resolve_targets, run_check  # noqa: E402
from secplan.markdown.parser import OPTIONS  # noqa: E402  (the floor parses as the parser does)

_TITLE_RE = re.compile(r"^title: (.*)$", re.M)


def generate_handbook(out: Path, plans: int, source: Path = EXAMPLE) -> Path:
    """Write a handbook of ``plans`` plans, copies of the example plans in numbered groups.

    Each group directory holds one copy of every example plan, so relative links between
    plans stay valid; titles get the group number so the catalog rows differ. The catalog
    page is written with its table filled in, as in a maintained handbook.
    """
    templates: list[tuple[str, str]] = []
    for path in sorted(source.rglob("*.md")):
        rel = path.relative_to(source).as_posix()
        if rel in ("index.md", "_index.md", "index.html.md") or ".secplan" in rel:
            continue
        templates.append((rel, path.read_text(encoding="utf-8")))
    if not templates:
        raise SystemExit(f"no plans under {source}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("secplan.toml",):
        if (source / name).is_file():
            shutil.copy2(source / name, out / name)
    for n in range(plans):
        group, (rel, text) = divmod(n, len(templates))[0], templates[n % len(templates)]
        target = out / f"g{group:05d}" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = _TITLE_RE.sub(lambda m, g=group: f"title: {m.group(1)} (group {g})", text, count=1)
        target.write_text(text, encoding="utf-8")
    (out / "index.md").write_text(
        f"# Synthetic handbook\n\n{plans} plans.\n\n{START_MARKER}\n{END_MARKER}\n",
        encoding="utf-8",
    )
    write_catalog(load_handbook(out, use_cache=False))
    return out


class Timing:
    """Wall-clock seconds and CPU seconds (this process plus finished children, parsing
    workers included)."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu

    def __str__(self) -> str:
        return f"{self.wall:8.2f} s wall {self.cpu:8.2f} s CPU"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn: Callable[[], object]) -> Timing:
    # CPU time is reported too: on a shared 2-core machine wall time swings with other load.
    start, cpu = time.perf_counter(), _cpu()
    fn()
    return Timing(time.perf_counter() - start, _cpu() - cpu)


def _markdown_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.md")) if ".secplan" not in p.parts]


def bare_parse(root: Path) -> tuple[Timing, int, int]:
    """Seconds to read and drain pyromark events of every .md file; files; bytes."""
    files = _markdown_files(root)
    size = 0

    def run() -> None:
        nonlocal size
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            size += len(text.encode("utf-8"))
            for _ in pyromark.events_with_range(text, options=OPTIONS):
                pass

    return _timed(run), len(files), size


def _clear_cache(root: Path) -> None:
    shutil.rmtree(root / ".secplan", ignore_errors=True)


def load_in_process(root: Path, *, jobs: int | None, use_cache: bool) -> Timing:
    """Seconds to load the handbook (no rules)."""
    return _timed(lambda: load_handbook(root, use_cache=use_cache, jobs=jobs))


def check_in_process(root: Path) -> tuple[Timing, int]:
    targets = resolve_targets([str(root)], None, root)
    findings = 0

    def run() -> None:
        nonlocal findings
        findings = len(run_check(targets, CheckOptions(), cwd=root).findings)

    return _timed(run), findings


def check_cli(root: Path) -> Timing:
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    cmd = [sys.executable, "-m", "secplan", "check", str(root), "--exit-zero", "--format", "json"]
    return _timed(
        lambda: subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True, cwd=root)
    )


def measure(name: str, source: Path, scratch: Path) -> None:
    """Copy ``source`` to scratch and print one block of timings for it."""
    root = scratch / name
    if source != root:
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".secplan", ".git"))
    parse_s, files, size = bare_parse(root)
    load_serial_s = load_in_process(root, jobs=1, use_cache=False)
    workers = max(2, available_cores())
    load_parallel_s = load_in_process(root, jobs=workers, use_cache=False)
    _clear_cache(root)
    load_in_process(root, jobs=None, use_cache=True)
    load_warm_s = load_in_process(root, jobs=None, use_cache=True)
    _clear_cache(root)
    cold_s, findings = check_in_process(root)
    warm_s, _ = check_in_process(root)
    _clear_cache(root)
    cli_cold_s = check_cli(root)
    cli_warm_s = check_cli(root)
    print(f"\n{name}: {files} Markdown files, {size / 1e6:.1f} MB, {findings} findings")
    print(f"  pyromark events_with_range    {parse_s}")
    print(f"  load, no cache, 1 process     {load_serial_s}")
    print(f"  load, no cache, {workers} processes   {load_parallel_s}")
    print(f"  load, warm cache              {load_warm_s}")
    print(f"  check in-process, cold cache  {cold_s}")
    print(f"  check in-process, warm cache  {warm_s}")
    print(f"  check CLI, cold cache         {cli_cold_s}")
    print(f"  check CLI, warm cache         {cli_warm_s}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("handbooks", nargs="*", type=Path, help="more handbooks to time")
    parser.add_argument("--plans", type=int, default=10_000, help="synthetic plans (0: none)")
    parser.add_argument("--no-corpora", action="store_true", help="skip ../shared/corpora")
    parser.add_argument("--no-example", action="store_true", help="skip examples/handbook")
    parser.add_argument("--generate", type=int, metavar="N", help="only write N plans to --out")
    parser.add_argument("--out", type=Path, help="where --generate writes the handbook")
    args = parser.parse_args(argv)

    if args.generate is not None:
        if args.out is None:
            parser.error("--generate needs --out DIR")
        generate_handbook(args.out, args.generate)
        print(f"wrote {args.generate} plans to {args.out}")
        return

    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}, pyromark {pyromark.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="secplan-bench-") as tmp:
        scratch = Path(tmp)
        if not args.no_example:
            measure("example-handbook", EXAMPLE, scratch)
        for extra in args.handbooks:
            measure(extra.resolve().name, extra.resolve(), scratch)
        if not args.no_corpora:
            if CORPORA.is_dir():
                measure("corpora", CORPORA, scratch)
            else:
                print("\n../shared/corpora is absent: skipped")
        if args.plans:
            synthetic = scratch / f"synthetic-{args.plans}"
            gen_s = _timed(lambda: generate_handbook(synthetic, args.plans))
            print(f"\n(generated {args.plans} plans in {gen_s.wall:.1f} s)")
            measure(synthetic.name, synthetic, scratch)


if __name__ == "__main__":
    main()
