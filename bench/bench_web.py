"""Latency of the web UI on a big handbook, side by side with the same bytes as static files.

It writes a synthetic handbook (default 10,000 plans) to a temporary directory, starts
``secplan serve`` on it twice (a real uvicorn process; the first start fills the parse cache,
the second is timed), saves the catalog page and a plan page to disk and serves them with
``python3 -m http.server``, then times both servers in one run, alternating request by request
so the machine's load hits both alike:

- catalog ``/`` and a plan page: p50 and p99 over ``--repeat`` GETs each, secplan and static,
- a revalidation (``If-None-Match`` -> 304),
- server start with a warm parse cache, the first catalog request after it,
- the server's resident memory (RSS, and its peak) after the run.

Usage: ``python bench/bench_web.py [--sizes 10000] [--repeat 300]``. Prints a Markdown table.
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


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (load-independent, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def side_by_side(
    a: httpx.Client, url_a: str, b: httpx.Client, url_b: str, repeat: int
) -> tuple[list[float], list[float], int]:
    """Milliseconds of ``repeat`` GETs on each server, alternating; and the bytes of one."""
    times_a: list[float] = []
    times_b: list[float] = []
    size = 0
    for _ in range(repeat):
        for client, url, out in ((a, url_a, times_a), (b, url_b, times_b)):
            t0 = time.perf_counter()
            r = client.get(url)
            out.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            if client is a:
                size = len(r.content)
    return times_a, times_b, size


def bench_size(n: int, repeat: int, work: Path) -> list[tuple[str, str]]:
    """Rows (what, result) for one handbook size."""
    root = work / f"hb-{n}"
    t0 = time.perf_counter()
    write_handbook(root, n)
    rows = [("generate handbook", f"{time.perf_counter() - t0:.1f} s")]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "secplan", "serve", str(root), "--port", str(port)]
    proc, started = start(cmd, base + "/openapi.json")  # fills the parse cache
    rows.append(("server start, cold parse cache", f"{started:.2f} s"))
    stop(proc)
    proc, started = start(cmd, base + "/openapi.json")
    rows.append(
        (
            "**server start, warm parse cache** (goal <= 2 s): wall / CPU of the server",
            f"{started:.2f} s / {cpu_seconds(proc.pid):.2f} s",
        )
    )
    plan_id = f"area-{(n // 2) // 100:03d}/plan-{n // 2:05d}"
    static = work / f"static-{n}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            t0 = time.perf_counter()
            client.get("/").raise_for_status()
            rows.append(("first catalog `/` after the start", f"{time.perf_counter() - t0:.2f} s"))
            rows.append(
                (
                    "started and first catalog served: CPU of the server",
                    f"{cpu_seconds(proc.pid):.2f} s",
                )
            )
            t0 = time.perf_counter()
            client.get(f"/plans/{plan_id}").raise_for_status()
            rows.append(("first plan page", f"{(time.perf_counter() - t0) * 1000:.1f} ms"))
            (static / "plans").mkdir(parents=True)
            (static / "index.html").write_bytes(client.get("/").content)
            (static / "plans" / "plan.html").write_bytes(client.get(f"/plans/{plan_id}").content)
            sport = free_port()
            sproc, _ = start(
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                    str(static),
                    str(sport),
                ],
                f"http://127.0.0.1:{sport}/",
            )
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{sport}", timeout=60) as sclient:
                    pages = (
                        ("catalog `/`", "/", "/"),
                        ("plan page", f"/plans/{plan_id}", "/plans/plan.html"),
                    )
                    for label, url, surl in pages:
                        ours, theirs, size = side_by_side(client, url, sclient, surl, repeat)
                        p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
                        s50, s99 = percentile(theirs, 0.5), percentile(theirs, 0.99)
                        rows.append(
                            (
                                f"**{label}** ({size:,} B) p50 / p99: secplan vs static",
                                f"{p50:.2f} / {p99:.2f} ms vs {s50:.2f} / {s99:.2f} ms "
                                f"(**{p50 / s50:.1f}x / {p99 / s99:.1f}x**; goal <= 3x / 2x)",
                            )
                        )
            finally:
                stop(sproc)
            tag = client.get("/").headers.get("etag", "")
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = client.get("/", headers={"If-None-Match": tag})
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 304, r.status_code
            rows.append(
                (
                    "catalog revalidated (`If-None-Match` -> 304) p50 / p99",
                    f"{statistics.median(times):.2f} / {percentile(times, 0.99):.2f} ms",
                )
            )
        now, peak = rss_mb(proc.pid)
        rows.append(
            ("**server RSS** after the run, peak (goal <= 250 MB)", f"{now:.0f} MB, {peak:.0f} MB")
        )
    finally:
        stop(proc)
    return rows


def main() -> None:
    """Run the benchmark and print a Markdown table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="secplan-bench-web-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            print(f"\n### {n:,} plans\n\n| what | result |\n|---|---|")
            for what, result in bench_size(n, args.repeat, Path(tmp)):
                print(f"| {what} | {result} |", flush=True)
            shutil.rmtree(Path(tmp) / f"hb-{n}", ignore_errors=True)
    print(f"\nload average after the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
