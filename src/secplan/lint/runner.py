"""What ``secplan check`` runs: turn PATH arguments into handbooks to load, load, check, fix.

A PATH may be the handbook root, a directory or file below it, a plan id, or another handbook
directory (``secplan check examples/handbook`` from a project root). Each distinct root is loaded
once, with only the named files parsed when PATHs name part of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from secplan.config import Config, load_config
from secplan.errors import UsageError
from secplan.handbook import find_plan_files, load_handbook, plan_id, resolve_plan_path
from secplan.handbook.conventions import is_repository_file
from secplan.handbook.loader import CATALOG_NAMES
from secplan.lint.engine import CheckResult, Engine, Selector
from secplan.lint.incremental import check_handbook
from secplan.lint.snapshot import Rendering, Snapshot
from secplan.lint.threads import load_known_epics, load_open_threads, with_mr_threads


@dataclass
class Target:
    """One handbook root and, when only part of it is checked, the files/folders to check."""

    root: Path
    paths: list[Path] | None = None  # None: the whole handbook

    @property
    def whole(self) -> bool:
        """Whether the whole handbook is checked (handbook-wide rules run only then)."""
        return self.paths is None


@dataclass
class CheckOptions:
    """The knobs of one check run (the CLI's options)."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    require_ready: bool = False
    fix: bool = False
    database_url: str | None = None
    #: The output the result will be written as, when a check snapshot may keep it.
    rendering: Rendering | None = None


def is_handbook_root(path: Path) -> bool:
    """A directory holding a catalog page."""
    return any((path / name).is_file() for name in CATALOG_NAMES)


def is_outside_handbook(root: Path, config: Config) -> bool:
    """No configuration and no catalog page: a tree of Markdown, not a handbook."""
    return config.source_file is None and not is_handbook_root(root)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _nearest_handbook(path: Path) -> Path | None:
    for parent in path.parents:
        if is_handbook_root(parent):
            return parent
    return None


def resolve_targets(args: Iterable[str], root: Path | None, cwd: Path) -> list[Target]:
    """Group PATH arguments by the handbook root they belong to."""
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {root} is not a directory")
    base = (root or cwd).resolve()
    base_is_handbook = root is not None or is_handbook_root(base)
    order: list[Path] = []
    parts: dict[Path, list[Path] | None] = {}

    def add(hb: Path, path: Path | None) -> None:
        if hb not in parts:
            order.append(hb)
            parts[hb] = []
        current = parts[hb]
        if path is None or current is None:
            parts[hb] = None
        elif path not in current:
            current.append(path)

    args = list(args)
    if not args:
        return [Target(base)]
    for arg in args:
        given = Path(arg).expanduser()
        path = given if given.is_absolute() else cwd / given
        if path.is_dir():
            path = path.resolve()
            if path == base:
                add(base, None)
            elif base_is_handbook and _inside(path, base):
                add(base, path)
            else:
                add(path, None)  # another handbook (or a folder of plans) as a root of its own
        elif path.is_file():
            path = path.resolve()
            hb = base if base_is_handbook and _inside(path, base) else None
            hb = hb or _nearest_handbook(path) or path.parent
            add(hb, None if path.parent == hb and path.name in CATALOG_NAMES else path)
        else:
            # A plan id (`admin-mfa` for `admin-mfa/index.md`), resolved as everywhere else.
            plan = resolve_plan_path(base, arg) if arg.strip().strip("/") else None
            if plan is None:
                raise UsageError(
                    f"no file, folder or plan named {arg!r}",
                    hint=f"PATH is a file, a folder or a plan id of the handbook at {base}.",
                )
            add(base, plan.resolve())
    return [Target(hb, parts[hb]) for hb in order]


def _check_target(target: Target, options: CheckOptions, cwd: Path) -> CheckResult:
    config: Config = load_config(target.root)
    selector = Selector.build(options.select, options.ignore, config.ignore)
    engine = Engine(config, selector)
    database_url = options.database_url or config.database_url
    threads = with_mr_threads(
        target.root, config.backend, load_open_threads(target.root, database_url)
    )
    # Only the embedded tracker's epics are in the store; a remote tracker is never contacted
    # by a check (offline and fast), so SP404 is left to `secplan plan` there.
    local = config.backend == "local"
    epics = load_known_epics(target.root, database_url) if local and engine.runs("SP404") else None
    notes: list[str] = []
    if epics is None and options.require_ready and engine.runs("SP404"):
        why = (
            "no tracker database to read (run `secplan apply` first, or pass --database-url)"
            if local
            else f"check does not contact the {config.backend} tracker; `secplan plan` warns "
            "of epics it does not have"
        )
        notes.append(f"epics were not checked against the tracker (SP404): {why}")
    outside = is_outside_handbook(target.root, config)
    if target.whole and not options.fix and not outside:
        # The usual run: unchanged plans' findings come from the findings cache, or the
        # whole output from the snapshot of the last run.
        snapshot = None
        cached = None
        if options.rendering is not None:
            snapshot = Snapshot(target.root.absolute(), options.rendering)
            cached = snapshot.check(
                config,
                engine,
                require_ready=options.require_ready,
                open_threads=threads,
                cwd=cwd,
                known_epics=epics,
            )
        if cached is None:
            cached = check_handbook(
                target.root,
                config,
                engine,
                require_ready=options.require_ready,
                open_threads=threads,
                cwd=cwd,
                known_epics=epics,
                snapshot=snapshot,
            )
        cached.notes[:0] = notes
        return cached
    if outside:
        # Most likely a code repository: its READMEs are not plans, and it is not ours to
        # write a cache into.
        paths = target.paths
        if paths is None:
            paths = [p for p in find_plan_files(target.root) if not is_repository_file(p)]
        handbook = load_handbook(target.root, config, paths=paths, use_cache=False)
        notes.append(
            f"no secplan.toml (and no catalog index.md) at or above {target.root}: checked as "
            "a folder of plans, README-like files skipped, nothing cached"
        )
    else:
        handbook = load_handbook(target.root, config, paths=target.paths)
    plan_ids: set[str] | None = None
    if not target.whole:
        plan_ids = {
            plan_id(p.relative_to(target.root).as_posix()) for p in find_plan_files(target.root)
        }
    result = engine.check(
        handbook,
        require_ready=options.require_ready,
        open_threads=threads,
        known_epics=epics,
        plan_ids=plan_ids,
        whole_handbook=target.whole,
        cwd=cwd,
    )
    if options.fix:
        from secplan.lint.fix import apply_fixes  # --fix only: it writes the catalog

        apply_fixes(handbook, result)
    result.notes[:0] = notes
    return result


def run_check(targets: list[Target], options: CheckOptions, cwd: Path | None = None) -> CheckResult:
    """Check every target and merge the findings (sorted by path, line, column, code)."""
    cwd = cwd or Path.cwd()
    if len(targets) == 1:
        return _check_target(targets[0], options, cwd)
    options = replace(options, rendering=None)  # merged findings are written as usual
    result = CheckResult()
    for target in targets:
        result.extend(_check_target(target, options, cwd))
    return result
