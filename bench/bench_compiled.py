"""A cold parse, pure Python against a mypyc-compiled build of the same source tree.

Nothing here builds anything: ``--pure SRC`` and ``--compiled SRC`` are two ``src`` folders
(the compiled one holds the extension modules next to the sources, as ``mypyc`` leaves them;
bench/README.md says how it was built). Each measurement runs as a subprocess with that folder
first on ``PYTHONPATH``, alternating pure and compiled ``--repeat`` times, and prints the median
with the min-max:

- ``load``: :func:`secplan.handbook.load_handbook` without the cache, one process, timed inside
  the subprocess (wall and CPU seconds, imports excluded);
- ``CLI``: ``python -m secplan check ROOT --format json --exit-zero`` with
  ``SECPLAN_NO_CACHE=1`` (wall seconds, start-up included).

``SECPLAN_JOBS=1`` in both, so the comparison is of the code, not of free cores. Handbooks: the
synthetic one of ``bench_check.py`` (``--plans``) and ``../shared/corpora`` copied 20 times as in
``bench_fast.py`` (skipped when absent); on the corpus, Hugo's full build of the same documents
(``bench_fast.py``'s layout) runs in the same rotation when ``hugo`` is installed.

    python bench/bench_compiled.py --pure PURE/src --compiled BUILD/src [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CORPORA = PROJECT.parent / "shared" / "corpora"
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "src"))

from bench.bench_check import generate_handbook  # noqa: E402
from bench.bench_fast import HUGO_CONFIG, HUGO_LIST, HUGO_SINGLE  # noqa: E402

LOAD = """
import json, resource, sys, time
from pathlib import Path
import secplan
from secplan.handbook import load_handbook
import secplan.markdown.parser as parser

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

start, used = time.perf_counter(), cpu()
handbook = load_handbook(Path(sys.argv[1]), use_cache=False, jobs=1)
wall, used = time.perf_counter() - start, cpu() - used
print(json.dumps({"wall": wall, "cpu": used, "plans": len(handbook.plans),
                  "compiled": not parser.__file__.endswith(".py"), "from": secplan.__file__}))
"""


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    env["PYTHONPATH"] = str(src)
    env["SECPLAN_NO_CACHE"] = "1"
    env["SECPLAN_JOBS"] = "1"
    return env


def load(src: Path, root: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", LOAD, str(root)],
        env=_env(src),
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    if not Path(data.pop("from")).is_relative_to(src):
        raise SystemExit(f"secplan was not imported from {src} (is it a src folder?)")
    return dict(data)


def cli(src: Path, root: Path) -> float:
    cmd = [sys.executable, "-m", "secplan", "check", str(root), "--exit-zero", "--format", "json"]
    start = time.perf_counter()
    subprocess.run(cmd, env=_env(src), cwd=root, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def hugo_site(docs: Path, site: Path) -> Path:
    """A minimal Hugo site whose content is ``docs`` (the layout of ``bench_fast.py``)."""
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG.format(content=docs), encoding="utf-8")
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (site / "layouts" / "index.html").write_text(HUGO_LIST, encoding="utf-8")
    return site


def hugo(site: Path) -> float:
    out = site / "public"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["hugo", "--quiet", "-d", str(out), "-s", str(site)], cwd=site, check=True)
    return time.perf_counter() - start


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s [{min(values):.2f}-{max(values):.2f}]"


def compare(
    name: str, root: Path, pure: Path, compiled: Path, repeat: int, site: Path | None = None
) -> None:
    """Alternate pure and compiled runs on ``root`` (and Hugo on ``site``) and print them."""
    first = load(compiled, root)
    if not first["compiled"]:
        raise SystemExit(f"{compiled}: secplan.markdown.parser is not an extension module")
    rows: dict[str, dict[str, list[float]]] = {
        kind: {"wall": [], "cpu": [], "cli": []} for kind in ("pure", "compiled")
    }
    hugos: list[float] = []
    for _ in range(repeat):
        for kind, src in (("pure", pure), ("compiled", compiled)):
            timing = load(src, root)
            rows[kind]["wall"].append(timing["wall"])
            rows[kind]["cpu"].append(timing["cpu"])
        for kind, src in (("pure", pure), ("compiled", compiled)):
            rows[kind]["cli"].append(cli(src, root))
        if site is not None:
            hugos.append(hugo(site))
    print(f"\n{name}: {int(first['plans'])} plans")
    for kind in ("pure", "compiled"):
        r = rows[kind]
        print(
            f"  {kind:<9} load wall {_span(r['wall'])}  CPU {_span(r['cpu'])}"
            f"  CLI cold {_span(r['cli'])}"
        )
    for what in ("wall", "cpu", "cli"):
        ratios = [c / p for c, p in zip(rows["compiled"][what], rows["pure"][what], strict=True)]
        print(
            f"  compiled / pure, {what:<4} {statistics.median(ratios):.2f}x"
            f" [{min(ratios):.2f}-{max(ratios):.2f}]"
        )
    if hugos:
        print(f"  Hugo full build {_span(hugos)}")
        for kind in ("pure", "compiled"):
            ratios = [c / h for c, h in zip(rows[kind]["cli"], hugos, strict=True)]
            print(
                f"  CLI cold / Hugo, {kind:<8} {statistics.median(ratios):.2f}x"
                f" [{min(ratios):.2f}-{max(ratios):.2f}] (goal <= 0.4x)"
            )


def corpus_copies(source: Path, out: Path, copies: int = 20) -> Path:
    """``source``'s Markdown files (``SOURCES.md`` left out) copied ``copies`` times."""
    files = [p for p in sorted(source.rglob("*.md")) if p.name != "SOURCES.md"]
    for n in range(copies):
        for path in files:
            if ".secplan" in path.parts:
                continue
            target = out / f"copy{n:02d}" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (out / "secplan.toml").write_text("", encoding="utf-8")  # a handbook: READMEs count
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pure", type=Path, required=True, help="a src folder, pure Python")
    parser.add_argument("--compiled", type=Path, required=True, help="a src folder, compiled")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--only", choices=["corpus", "synthetic"])
    args = parser.parse_args(argv)
    pure, compiled = args.pure.resolve(), args.compiled.resolve()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="secplan-bench-") as tmp:
        scratch = Path(tmp)
        if args.only in (None, "corpus"):
            if args.corpora.is_dir():
                root = corpus_copies(args.corpora, scratch / "corpus")
                site = hugo_site(root, scratch / "site") if shutil.which("hugo") else None
                compare("corpus x20", root, pure, compiled, args.repeat, site)
            else:
                print(f"\n{args.corpora} is absent: corpus skipped")
        if args.only in (None, "synthetic"):
            root = generate_handbook(scratch / "synthetic", args.plans)
            compare(f"synthetic, {args.plans} plans", root, pure, compiled, args.repeat)
    print(f"\nload after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
