"""A build where nothing changed, answered from the last build's record without loading plans.

Every input of a build is summed up in one digest before anything is read: every file and
folder of the handbook (``stat`` only: path, size, times, inode; hidden and tool folders and
the output skipped, as the loader skips them), the tracker database and other state under
``.secplan/`` (not the parse cache), secplan's version and code, the options, ``SECPLAN_*``
variables and today's date (the roadmap shows it). When the digest equals the one the last
build recorded and every file that build wrote is still there, the build is done: its report
(findings included) comes from ``.secplan-build.json``. Otherwise the full build runs, and
records its digest and report at the end.

As in the parse cache's index, a ``stat`` is trusted only for files last changed at least
:data:`RACY_NS` before now (an edit in the same clock tick could leave it unchanged); with
any younger file the full build runs. A database the digest cannot see (a server named by
``--database-url`` or the configuration) always means the full build.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from secplan.errors import UsageError
from secplan.handbook.files import SKIP_DIRS
from secplan.site.linkcheck import Broken, Link
from secplan.site.report import BuildReport

RECORD_NAME = ".secplan-build.json"
_FORMAT = 1
#: A ``stat`` is trusted for files last changed at least this long ago (as the parse cache).
RACY_NS = 2_000_000_000


def check_out(root: Path, out: Path) -> None:
    if out == root or out in root.parents:
        raise UsageError(
            f"the output folder {out} contains the handbook",
            hint="Write the site to a folder of its own, e.g. --out public/.",
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder", hint="Choose another --out.")


def build(
    root: Path,
    out: Path,
    *,
    base_url: str | None = None,
    database_url: str | None = None,
    search: bool = True,
) -> BuildReport:
    """Build the static site of the handbook at ``root`` into ``out``: the last build's report
    when nothing changed, else the (incremental) build of :mod:`secplan.site.builder`."""
    started = time.perf_counter()
    root = root.resolve()
    out = out.resolve()
    check_out(root, out)
    if base_url is not None and not base_url.strip():
        base_url = None
    inputs = inputs_digest(root, out, base_url, database_url, search)
    report = unchanged(out, inputs)
    if report is None:
        from secplan.site.builder import full_build  # the web UI's modules: only now

        report = full_build(root, out, base_url, database_url, search, inputs)
    report.seconds = time.perf_counter() - started
    return report


def _walk(root: Path, out: Path, h: Any) -> int | None:
    """Hash the stamps of the handbook's files into ``h``; the latest change time, or None."""
    latest = 0
    skip_out = str(out)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and os.path.join(dirpath, d) != skip_out
        )
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                return None
            latest = max(latest, st.st_mtime_ns, st.st_ctime_ns)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return latest


def inputs_digest(
    root: Path, out: Path, base_url: str | None, database_url: str | None, search: bool
) -> str | None:
    """The digest of everything a build reads; None when it cannot be trusted (see above)."""
    import secplan
    from secplan.config import load_config
    from secplan.site.manifest import files_digest

    if database_url or load_config(root).database_url:
        return None  # a database server: its changes cannot be seen here
    h = hashlib.sha256()
    from importlib.util import find_spec

    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("SECPLAN_"))
    h.update(
        json.dumps(
            [
                secplan.__version__,
                sys.version,
                base_url,
                search,
                find_spec("pagefind") is not None,
                env,
                date.today().isoformat(),
                files_digest(Path(secplan.__file__).parent),
            ]
        ).encode()
    )
    latest = _walk(root, out, h)
    state = root / ".secplan"
    if latest is None:
        return None
    if state.is_dir():  # the tracker database and review threads, not the parse cache
        for path in sorted(state.rglob("*")):
            if "cache" in path.relative_to(state).parts or not path.is_file():
                continue
            st = path.stat()
            latest = max(latest, st.st_mtime_ns, st.st_ctime_ns)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    if time.time_ns() - latest < RACY_NS:
        return None
    return h.hexdigest()


def unchanged(out: Path, inputs: str | None) -> BuildReport | None:
    """The last build's report when ``inputs`` is its digest and its files are all there."""
    if inputs is None:
        return None
    try:
        data = json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT or data.get("inputs") != inputs:
            return None
        files = [str(f) for f in data["files"]]
        if not all((out / f).is_file() for f in files):
            return None
        summary = data["report"]
        return BuildReport(
            out=out,
            kept=len(files),
            plans_total=int(summary["plans"]),
            assets=int(summary["assets"]),
            warnings=[str(w) for w in summary["warnings"]],
            broken=[Broken(str(s), int(n), str(u), str(r)) for s, n, u, r in summary["broken"]],
            external=[Link(str(u), str(s), int(n)) for u, s, n in summary["external"]],
            tracker=bool(summary["tracker"]),
            search=bool(summary["search"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(out: Path, inputs: str | None, report: BuildReport, files: list[str]) -> None:
    """Remember this build's inputs and report for the next build (or forget the last's)."""
    path = out / RECORD_NAME
    if inputs is None:
        path.unlink(missing_ok=True)
        return
    data = {
        "format": _FORMAT,
        "inputs": inputs,
        "files": files,
        "report": {
            "plans": report.plans_total,
            "assets": report.assets,
            "warnings": report.warnings,
            "broken": [[b.source, b.line, b.url, b.reason] for b in report.broken],
            "external": [[x.url, x.source, x.line] for x in report.external],
            "tracker": report.tracker,
            "search": report.search,
        },
    }
    tmp = out / (RECORD_NAME + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
