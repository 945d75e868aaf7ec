"""Side-by-side ratios for a fast CLI: ``secplan check`` against references run in the same job.

Every scenario runs its commands alternately, ``--repeat`` times each, as subprocesses (start-up
included), and prints each ratio as the median with the min-max over the pairs:

- **corpus**: a cold ``secplan check`` (no cache) of ``../shared/corpora`` copied 20 times
  (its Markdown files only, ``SOURCES.md`` left out: 2,040 documents) against Hugo's full build
  of the same documents (Debian's ``hugo``; a minimal layout written here renders each page's
  title, table of contents and content);
- **10,000 plans**: a warm check after one edited plan, against a cold check (no cache) and
  against ``secplan --version``; peak RSS of the cold and the warm check;
- **example**: ``secplan check`` on examples/handbook (warm) against ``secplan --version``.

    python bench/bench_fast.py [--repeat 3] [--plans 10000] [--corpora DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "examples" / "handbook"
CORPORA = PROJECT.parent / "shared" / "corpora"
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "src"))

from bench.bench_check import generate_handbook  # noqa: E402

HUGO_CONFIG = """baseURL = "http://localhost/"
title = "bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
contentDir = "{content}"
[markup.goldmark.renderer]
unsafe = false
[markup.tableOfContents]
startLevel = 1
endLevel = 6
"""
HUGO_SINGLE = """<!doctype html><html><head><title>{{ .Title }}</title></head><body>
<h1>{{ .Title }}</h1><nav>{{ .TableOfContents }}</nav><main>{{ .Content }}</main>
</body></html>
"""
HUGO_LIST = """<!doctype html><html><head><title>{{ .Title }}</title></head><body>
<h1>{{ .Title }}</h1><nav>{{ .TableOfContents }}</nav><main>{{ .Content }}</main>
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</body></html>
"""


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command.

    The RSS comes from ``/usr/bin/time -f %M``: a child forked from this (large) process
    would inherit its high-water mark in ``wait4``'s rusage.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) // 1024


def secplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "secplan", *args]


#: Where the measured commands keep their bytecode (see :func:`with_bytecode`).
PYCACHE = Path(tempfile.gettempdir()) / "secplan-bench-pycache"


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECPLAN_DATABASE_URL", "PYTHONDONTWRITEBYTECODE")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def with_bytecode() -> None:
    """Compile secplan, the standard library and the dependencies once, as an installed wheel
    is: with ``PYTHONDONTWRITEBYTECODE`` set (as in some CI images) every measured start-up
    would compile every module it imports from source, the references' fewer ones too. The
    bytecode goes to a scratch prefix, never into the source tree."""
    env = _env()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", str(PROJECT / "src")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="secplan-bench-") as tmp:
        copy = shutil.copytree(EXAMPLE, Path(tmp) / "handbook")
        for args in (["--version"], ["check", str(copy), "--exit-zero"], ["--help"]):
            subprocess.run(secplan(*args), env=env, stdout=subprocess.DEVNULL, check=False)


def ratio_line(name: str, num: list[float], den: list[float], goal: float | None) -> str:
    ratios = [a / b for a, b in zip(num, den, strict=True)]
    med = statistics.median(ratios)
    verdict = "" if goal is None else ("  met" if med <= goal else "  NOT met")
    goal_text = "" if goal is None else f" (goal <= {goal:g}x)"
    return (
        f"  {name:<52} {med:6.3f}x  [{min(ratios):.3f}-{max(ratios):.3f}]"
        f"  {statistics.median(num):7.3f} s / {statistics.median(den):7.3f} s{goal_text}{verdict}"
    )


def alternate(
    repeat: int, *steps: Callable[[], tuple[float, int]]
) -> list[list[tuple[float, int]]]:
    out: list[list[tuple[float, int]]] = [[] for _ in steps]
    for _ in range(repeat):
        for i, step in enumerate(steps):
            out[i].append(step())
    return out


def corpus(scratch: Path, source: Path, repeat: int) -> None:
    docs = scratch / "corpus"
    files = [p for p in sorted(source.rglob("*.md")) if p.name != "SOURCES.md"]
    files = [p for p in files if ".secplan" not in p.parts]
    for n in range(20):
        for path in files:
            target = docs / f"copy{n:02d}" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    # A handbook, not a folder of stray Markdown: without a secplan.toml, check skips
    # README-like files (every KEP is a README.md) as repository boilerplate.
    (docs / "secplan.toml").write_text("", encoding="utf-8")
    count = len(files) * 20
    size = sum(p.stat().st_size for p in files) * 20
    site = scratch / "site"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG.format(content=docs), encoding="utf-8")
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (site / "layouts" / "index.html").write_text(HUGO_LIST, encoding="utf-8")
    env = _env(SECPLAN_NO_CACHE="1")

    def check() -> tuple[float, int]:
        return run(secplan("check", str(docs), "--exit-zero", "--format", "json"), docs, env)

    def hugo() -> tuple[float, int]:
        out = scratch / "public"
        shutil.rmtree(out, ignore_errors=True)
        return run(["hugo", "--quiet", "-d", str(out), "-s", str(site)], site)

    checks, hugos = alternate(repeat, check, hugo)
    print(f"\ncorpus x20: {count} documents, {size / 1e6:.1f} MB")
    print(
        ratio_line(
            "cold check / Hugo full build", [c[0] for c in checks], [h[0] for h in hugos], 0.4
        )
    )
    print(f"  peak RSS: check {max(c[1] for c in checks)} MiB, hugo {max(h[1] for h in hugos)} MiB")


def synthetic(scratch: Path, plans: int, repeat: int) -> None:
    root = scratch / f"synthetic-{plans}"
    generate_handbook(root, plans)
    env = _env()
    check_cmd = secplan("check", str(root), "--exit-zero", "--format", "json")
    run(check_cmd, root, env)  # fill both caches
    time.sleep(2.1)  # past the racy-clean window, as any real edit after a check is
    run(check_cmd, root, env)
    victim = next(root.glob("g00001/*.md"))
    original = victim.read_text(encoding="utf-8")
    edits = [0]

    def warm_after_edit() -> tuple[float, int]:
        edits[0] += 1
        victim.write_text(original + f"\nEdited {edits[0]}.\n", encoding="utf-8")
        return run(check_cmd, root, env)

    def cold() -> tuple[float, int]:
        return run(check_cmd, root, _env(SECPLAN_NO_CACHE="1"))

    def version() -> tuple[float, int]:
        return run(secplan("--version"), root, env)

    warm, colds, versions = alternate(repeat, warm_after_edit, cold, version)
    print(f"\n{plans} plans ({sum(1 for _ in root.rglob('*.md'))} files)")
    w, c, v = ([t[0] for t in x] for x in (warm, colds, versions))
    print(ratio_line("warm check after one edited plan / cold check", w, c, 0.05))
    print(ratio_line("warm check after one edited plan / secplan --version", w, v, 3))
    print(
        f"  peak RSS: cold check {max(t[1] for t in colds)} MiB (goal <= 200),"
        f" warm check {max(t[1] for t in warm)} MiB, --version {max(t[1] for t in versions)} MiB"
    )


def example(scratch: Path, repeat: int) -> None:
    root = scratch / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".secplan"))
    env = _env()
    run(secplan("check", "--exit-zero"), root, env)

    def check() -> tuple[float, int]:
        return run(secplan("check", "--exit-zero"), root, env)

    def version() -> tuple[float, int]:
        return run(secplan("--version"), root, env)

    checks, versions = alternate(repeat, check, version)
    print("\nexamples/handbook")
    print(
        ratio_line(
            "secplan check / secplan --version",
            [c[0] for c in checks],
            [v[0] for v in versions],
            1.5,
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--only", choices=["corpus", "synthetic", "example"])
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
    with_bytecode()
    with tempfile.TemporaryDirectory(prefix="secplan-bench-") as tmp:
        scratch = Path(tmp)
        if args.only in (None, "example"):
            example(scratch, args.repeat)
        if args.only in (None, "corpus"):
            if not args.corpora.is_dir():
                print(f"\n{args.corpora} is absent: corpus skipped")
            elif shutil.which("hugo") is None:
                print("\nhugo is not installed (apt-get install hugo): corpus skipped")
            else:
                corpus(scratch, args.corpora, args.repeat)
        if args.only in (None, "synthetic"):
            synthetic(scratch, args.plans, args.repeat)
    print(f"\nload after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
