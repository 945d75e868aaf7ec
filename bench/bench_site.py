"""Time ``secplan build`` next to Hugo on the same documents, in one run.

The handbook is ``../shared/corpora`` replicated ``--copies`` times (default 20): every Markdown
file copied into ``copy-NN/`` folders of a scratch directory. Hugo (Debian's ``hugo``) gets the
same files as content and a minimal theme, written here, that renders each page's content and
table of contents. Measured, each as a fresh subprocess:

- ``hugo``: a cold ``hugo`` build (no resources cache);
- ``secplan build`` cold (no parse cache, empty output), with and without the Pagefind index;
- ``secplan build`` again after one plan was edited (the incremental rebuild), and with nothing
  changed.

Reported: wall time, the ratio to Hugo's, and the peak RSS of the largest process of each run.

    python bench/bench_site.py                      # ../shared/corpora x 20
    python bench/bench_site.py --copies 2 --corpora DIR
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

PROJECT = Path(__file__).resolve().parent.parent
CORPORA = PROJECT.parent / "shared" / "corpora"

# Runs a command and prints the peak RSS (KiB) of its largest process, so each measurement
# gets a fresh RUSAGE_CHILDREN.
_PEAK = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "sys.stderr.write(rc.stderr.decode(errors='replace')[-2000:] if rc.returncode > 1 else '')\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)

HUGO_CONFIG = """baseURL = "/"
title = "bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.tableOfContents]
startLevel = 1
endLevel = 6
"""
HUGO_LAYOUT = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><nav>{{ .TableOfContents }}</nav><main>{{ .Content }}</main></body></html>
"""
HUGO_LIST = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><nav>{{ .TableOfContents }}</nav><main>{{ .Content }}</main>
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</body></html>
"""


def replicate(corpora: Path, dest: Path, copies: int) -> tuple[int, int]:
    """Copy every Markdown file of ``corpora`` ``copies`` times below ``dest``."""
    files = [p for p in sorted(corpora.rglob("*.md")) if p.is_file()]
    size = 0
    for n in range(copies):
        for path in files:
            target = dest / f"copy-{n:02d}" / path.relative_to(corpora)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            size += path.stat().st_size
    return len(files) * copies, size


def hugo_site(content: Path, site: Path) -> None:
    """A minimal Hugo site whose content is ``content`` (copied) and whose theme shows TOCs."""
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG)
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST)
    (site / "layouts" / "index.html").write_text(HUGO_LIST)
    shutil.copytree(content, site / "content")


def measure(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of the largest process) of one run of ``cmd``."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, *cmd], cwd=cwd, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if result.stderr.strip():
        print(result.stderr.strip(), file=sys.stderr)
    return wall, int(result.stdout.strip().splitlines()[-1]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    if not args.corpora.is_dir():
        raise SystemExit(f"no corpora at {args.corpora} (pass --corpora DIR)")
    hugo = shutil.which("hugo")
    if hugo is None:
        raise SystemExit("hugo is not installed (apt-get install hugo)")
    env_python = [sys.executable, "-m", "secplan", "build", "--allow-broken-links"]
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")]
    )
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        base = Path(tmp)
        root = base / "handbook"
        files, size = replicate(args.corpora, root, args.copies)
        hugo_site(root, base / "hugo")
        version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout
        print(
            f"{files} documents, {size / 1e6:.1f} MB; {platform.python_version()}; "
            f"{version.split()[1] if version else 'hugo ?'}; {os.cpu_count()} cores"
        )

        rows: list[tuple[str, float, int]] = []
        hugo_wall, hugo_rss = measure(
            [hugo, "--quiet", "--destination", str(base / "hugo-out"), "--ignoreCache"],
            cwd=base / "hugo",
        )
        rows.append(("hugo (cold)", hugo_wall, hugo_rss))

        def secplan(label: str, *extra: str, out: str = "public", fresh: bool = False) -> float:
            if fresh:
                shutil.rmtree(root / ".secplan", ignore_errors=True)
                shutil.rmtree(base / out, ignore_errors=True)
            wall, rss = measure(
                [*env_python, "--root", str(root), "--out", str(base / out), *extra]
            )
            rows.append((label, wall, rss))
            return wall

        secplan("secplan build --no-search (cold)", "--no-search", out="nosearch", fresh=True)
        cold = secplan("secplan build (cold)", fresh=True)
        secplan("secplan build, nothing changed")
        edited = next(p for p in sorted(root.rglob("*.md")) if p.name not in ("index.md",))
        with edited.open("a", encoding="utf-8") as fh:
            fh.write("\nOne more paragraph for the incremental build.\n")
        rebuild = secplan("secplan build, one plan edited")

    print()
    print("| Run | Wall | vs Hugo | Peak RSS | vs Hugo |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, wall, rss in rows:
        print(
            f"| {label} | {wall:.2f} s | {wall / hugo_wall:.2f}x | {rss} MiB | "
            f"{rss / max(hugo_rss, 1):.2f}x |"
        )
    print()
    print(f"rebuild after one edit / cold build: {rebuild / cold:.3f}x")


if __name__ == "__main__":
    main()
