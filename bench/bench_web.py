"""Latency of the web UI on big handbooks, next to the same pages served as static files.

For each size (default 1,000 and 10,000 plans) it writes a synthetic handbook to a temporary
directory, starts ``secplan serve`` on it (a real uvicorn process), and times over HTTP:

- the first catalog request (every plan linted once at ``--require ready``),
- warm catalog requests (``/`` and ``/plans.json``),
- a plan page, warm,
- the same catalog and plan HTML saved to disk and served by uvicorn's StaticFiles.

Usage: ``python bench/bench_web.py [--sizes 1000,10000] [--repeat 20]``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PLAN = """---
title: "Plan {n}: rotate secrets for service {n}"
status: {status}
epic: {epic}
owners: [owner{owner}]
labels: [bench, team{team}]
milestones:
  - title: M1
    due: 2027-03-01
---

# Plan {n}

## Summary

Service {n} keeps long-lived credentials. This plan replaces them with short-lived ones issued
by the secrets manager, and rotates them automatically.

## Requirements

- Credentials MUST expire within 24 hours.
- Rotation SHOULD need no human step.

## Work

- [ ] Inventory the credentials of service {n} %M1
  List every credential with its owner, scope and age so nothing is missed later on.
  - Acceptance: the inventory is reviewed by the service owner.
- [ ] Switch service {n} to short-lived credentials %M1
  Configure the secrets manager role and change the deployment to fetch credentials at start.
  - Acceptance: no static credential is left in the deployment.
"""


def write_handbook(root: Path, n: int) -> None:
    """A handbook of ``n`` plans in folders of 100 (like a big real handbook)."""
    root.mkdir(parents=True)
    (root / "index.md").write_text("# Bench handbook\n", encoding="utf-8")
    (root / "secplan.toml").write_text(
        'tracker = "bench/planning"\ngroup = "bench"\n', encoding="utf-8"
    )
    for i in range(n):
        folder = root / f"area-{i // 100:03d}"
        folder.mkdir(exist_ok=True)
        text = PLAN.format(
            n=i,
            status=("draft", "review", "ready")[i % 3],
            epic=f"bench&{i + 1}" if i % 3 == 2 else "null",
            owner=i % 17,
            team=i % 7,
        )
        (folder / f"plan-{i:05d}.md").write_text(text, encoding="utf-8")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], url: str, timeout: float = 600) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server and wait until ``url`` answers; returns the process and seconds taken."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
        try:
            httpx.get(url, timeout=timeout)
            return proc, time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.02)  # coarser polling would add up to its interval to "start"
        if time.perf_counter() - t0 > timeout:
            proc.kill()
            raise RuntimeError(f"{url} did not answer")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def timed(client: httpx.Client, url: str, repeat: int) -> tuple[float, float, int]:
    """(median ms, max ms, bytes) over ``repeat`` GETs."""
    times = []
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        size = len(r.content)
    return statistics.median(times), max(times), size


def static_server_main(directory: str, port: int) -> None:
    """Serve ``directory`` with uvicorn + StaticFiles (the pre-rendered baseline)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(routes=[Mount("/", StaticFiles(directory=directory, html=True))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def bench_size(n: int, repeat: int, work: Path) -> list[tuple[str, str]]:
    """Rows (what, result) for one handbook size."""
    root = work / f"hb-{n}"
    t0 = time.perf_counter()
    write_handbook(root, n)
    rows = [("generate handbook", f"{time.perf_counter() - t0:.1f} s")]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env_py = [sys.executable, "-m", "secplan", "serve", str(root), "--port", str(port)]
    rows_out: list[tuple[str, str]] = rows
    for attempt in ("cold parse cache", "warm parse cache"):
        proc, started = start(env_py, base + "/openapi.json")
        try:
            rows_out.append((f"server start ({attempt})", f"{started:.1f} s"))
            with httpx.Client(base_url=base, timeout=600) as client:
                t0 = time.perf_counter()
                first = client.get("/")
                first.raise_for_status()
                rows_out.append(
                    (f"first catalog `/` ({attempt})", f"{(time.perf_counter() - t0):.2f} s")
                )
                if attempt == "warm parse cache":
                    break
                plan_id = f"area-{(n // 2) // 100:03d}/plan-{n // 2:05d}"
                for label, url in (
                    ("catalog `/`", "/"),
                    ("catalog `/plans.json`", "/plans.json"),
                    ("catalog filtered `/?status=ready&q=service`", "/?status=ready&q=service"),
                    ("plan page", f"/plans/{plan_id}"),
                    ("plan JSON", f"/plans/{plan_id}.json"),
                ):
                    med, worst, size = timed(client, url, repeat)
                    rows_out.append(
                        (f"{label}, warm", f"{med:.1f} ms median, {worst:.1f} ms max, {size:,} B")
                    )
                static = work / f"static-{n}"
                (static / "plans").mkdir(parents=True)
                (static / "index.html").write_bytes(client.get("/").content)
                (static / "plans" / "plan.html").write_bytes(
                    client.get(f"/plans/{plan_id}").content
                )
        finally:
            stop(proc)
    sport = free_port()
    sproc, _ = start(
        [sys.executable, __file__, "--static-server", str(work / f"static-{n}"), str(sport)],
        f"http://127.0.0.1:{sport}/",
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sport}", timeout=60) as client:
            for label, url in (("static catalog", "/"), ("static plan page", "/plans/plan.html")):
                med, worst, size = timed(client, url, repeat)
                rows_out.append((label, f"{med:.1f} ms median, {worst:.1f} ms max, {size:,} B"))
    finally:
        stop(sproc)
    return rows_out


def main() -> None:
    """Run the benchmark and print a Markdown table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--static-server", nargs=2, metavar=("DIR", "PORT"))
    args = parser.parse_args()
    if args.static_server:
        static_server_main(args.static_server[0], int(args.static_server[1]))
        return
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="secplan-bench-web-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            print(f"\n### {n:,} plans\n\n| what | result |\n|---|---|")
            for what, result in bench_size(n, args.repeat, Path(tmp)):
                print(f"| {what} | {result} |", flush=True)
            shutil.rmtree(Path(tmp) / f"hb-{n}", ignore_errors=True)


if __name__ == "__main__":
    main()
