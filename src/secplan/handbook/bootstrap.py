"""``secplan init``: a working handbook in one command.

Writes ``secplan.toml``, a catalog page with its markers, an example plan (the ``secplan new``
template, which passes ``secplan check`` at draft), ``.secplan/`` in ``.gitignore`` and, on
request, a ``.gitlab-ci.yml``. Every file is planned before anything is written: a file that is
already there and says something else is refused as a whole (unless ``force``), one that
already is what init would write is kept, so running init again changes nothing.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from secplan.config import BACKENDS
from secplan.errors import SecplanError, UsageError
from secplan.handbook.catalog import END_MARKER, START_MARKER

#: Used when neither an option nor an existing secplan.toml gives a value.
DEFAULT_GROUP = "security"
DEFAULT_BACKEND = "local"
DEFAULT_GITLAB_URL = "https://gitlab.com"
EXAMPLE_TITLE = "Example plan"
EXAMPLE_FILE = "example-plan.md"
CATALOG_FILE = "index.md"
GITIGNORE_LINE = ".secplan/"

_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.][A-Za-z0-9_.\-]*)*$")


@dataclass
class InitSettings:
    """What goes into ``secplan.toml``."""

    group: str
    project: str
    backend: str = DEFAULT_BACKEND
    gitlab_url: str | None = None


@dataclass
class InitResult:
    """What init did, file by file (paths relative to the handbook root)."""

    root: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already there and as init would have it
    gitignore: str = "present"  # created | appended | present


def existing_settings(root: Path) -> dict[str, str]:
    """The values an existing ``secplan.toml`` already holds (defaults for a re-run)."""
    path = root / "secplan.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return {}
    out = {"project" if k == "tracker" else k: v for k, v in data.items() if isinstance(v, str)}
    return {k: v for k, v in out.items() if k in ("group", "project", "backend", "gitlab_url")}


def validate_settings(settings: InitSettings) -> None:
    """Refuse values secplan could not use later (a usage error naming the option)."""
    if not _PATH.match(settings.group):
        raise UsageError(
            f"--group {settings.group!r} is not a GitLab group path", hint="Use e.g. security."
        )
    if not _PATH.match(settings.project) or "/" not in settings.project:
        raise UsageError(
            f"--project {settings.project!r} is not a project path (group/project)",
            hint="Use e.g. security/planning.",
        )
    if settings.backend not in BACKENDS:
        raise UsageError(
            f"--backend {settings.backend!r} is not a backend",
            hint=f"Use one of: {', '.join(BACKENDS)}.",
        )
    if settings.backend == "gitlab":
        url = settings.gitlab_url or ""
        if not re.match(r"^https?://[^\s/]+", url):
            raise UsageError(
                f"--gitlab-url {url!r} is not an http(s) URL",
                hint="Use e.g. https://gitlab.example.com.",
            )


def render_config(settings: InitSettings) -> str:
    """The text of ``secplan.toml`` (TOML strings are written as JSON strings, which TOML
    reads the same for the characters a path or URL holds)."""
    lines = [
        "# secplan configuration; every key is described in docs/plan-format.md#configuration.",
        f"group = {json.dumps(settings.group)}  # epics and group milestones live here",
        f"tracker = {json.dumps(settings.project)}  # the project new issues are created in",
        f"backend = {json.dumps(settings.backend)}  # local (embedded tracker) or gitlab",
    ]
    if settings.backend == "gitlab":
        lines.append(f"gitlab_url = {json.dumps(settings.gitlab_url)}")
        lines.append(
            "# The token comes from GITLAB_TOKEN (or token_command), never from this file."
        )
    elif settings.gitlab_url:
        lines.append(f"gitlab_url = {json.dumps(settings.gitlab_url)}  # for links to epics")
    return "\n".join(lines) + "\n"


def render_catalog_page() -> str:
    """The catalog page: a title, a sentence, and the two marker lines."""
    return (
        "# Plans\n\n"
        "Every plan of this handbook, with its epic and links. secplan keeps the table between\n"
        "the two marker lines up to date (`secplan catalog --write`); edit anything around it.\n\n"
        f"{START_MARKER}\n{END_MARKER}\n"
    )


def ci_template() -> str:
    """The ``.gitlab-ci.yml`` that ``secplan init --ci`` writes (see docs/gitlab.md)."""
    return (
        resources.files("secplan.handbook").joinpath("templates/gitlab-ci.yml").read_text("utf-8")
    )


def _gitignore_has(text: str) -> bool:
    wanted = {".secplan", ".secplan/", "/.secplan", "/.secplan/"}
    return any(line.strip() in wanted for line in text.splitlines())


def _example_exists(root: Path) -> bool:
    """Is the example plan already there (in any layout)?"""
    from secplan.handbook.scaffold import existing_plan_file, slugify

    return existing_plan_file(root, slugify(EXAMPLE_TITLE)) is not None


def init_handbook(
    root: Path, settings: InitSettings, *, ci: bool = False, force: bool = False
) -> InitResult:
    """Create (or complete) the handbook at ``root``; see the module docstring."""
    from secplan.handbook.scaffold import render_plan

    validate_settings(settings)
    if root.exists() and not root.is_dir():
        raise SecplanError(f"{root} is not a directory", hint="Name a folder for the handbook.")
    result = InitResult(root=root)
    wanted: list[tuple[str, str]] = []
    if _config_matches(root, settings) and not force:
        result.kept.append("secplan.toml")  # a hand-written file that says the same: untouched
    else:
        wanted.append(("secplan.toml", render_config(settings)))
    catalog = root / CATALOG_FILE
    if _has_markers(catalog):
        result.kept.append(CATALOG_FILE)
    else:
        wanted.append((CATALOG_FILE, render_catalog_page()))
    if _example_exists(root):
        result.kept.append(EXAMPLE_FILE)
    else:
        wanted.append((EXAMPLE_FILE, render_plan(EXAMPLE_TITLE)))
    if ci:
        wanted.append((".gitlab-ci.yml", ci_template()))

    to_write: list[tuple[str, str]] = []
    conflicts: list[str] = []
    for name, text in wanted:
        path = root / name
        if not path.exists():
            to_write.append((name, text))
        elif _read(path) == text:
            result.kept.append(name)
        elif force:
            to_write.append((name, text))
        else:
            conflicts.append(name)
    if conflicts:
        first = conflicts[0]
        others = f" (and {', '.join(conflicts[1:])})" if conflicts[1:] else ""
        hint = "Pass --force to overwrite it, or edit it by hand."
        if first == CATALOG_FILE:
            hint = (
                "It has no catalog markers: run 'secplan adopt' to take over its table, "
                "or pass --force to replace it."
            )
        raise SecplanError(
            f"{first} already exists and differs from what init would write{others}; "
            "nothing was written",
            path=root / first,
            hint=hint,
        )

    root.mkdir(parents=True, exist_ok=True)
    for name, text in to_write:
        _write(root / name, text)
        result.written.append(name)
    result.gitignore = _ensure_gitignore(root / ".gitignore")
    if CATALOG_FILE in result.written or EXAMPLE_FILE in result.written:
        _refresh_catalog(root)
    return result


def _config_matches(root: Path, settings: InitSettings) -> bool:
    """Does an existing ``secplan.toml`` already say what ``settings`` say? (Its other keys
    and comments do not matter.)"""
    if not (root / "secplan.toml").is_file():
        return False
    have = existing_settings(root)
    same = (
        have.get("group") == settings.group
        and have.get("project") == settings.project
        and have.get("backend", DEFAULT_BACKEND) == settings.backend
    )
    if settings.backend == "gitlab" or settings.gitlab_url:
        same = same and have.get("gitlab_url") == settings.gitlab_url
    return same


def _has_markers(path: Path) -> bool:
    text = _read(path)
    return text is not None and START_MARKER in text and END_MARKER in text


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(path: Path, text: str) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise SecplanError(f"cannot write {path.name}: {exc.strerror or exc}", path=path) from None


def _ensure_gitignore(path: Path) -> str:
    text = _read(path)
    if text is None:
        _write(path, GITIGNORE_LINE + "\n")
        return "created"
    if _gitignore_has(text):
        return "present"
    sep = "" if not text or text.endswith("\n") else "\n"
    try:
        with path.open("a", encoding="utf-8", newline="\n") as fh:
            fh.write(f"{sep}{GITIGNORE_LINE}\n")
    except OSError as exc:
        raise SecplanError(f"cannot write .gitignore: {exc.strerror or exc}", path=path) from None
    return "appended"


def _refresh_catalog(root: Path) -> None:
    from secplan.handbook import load_handbook
    from secplan.handbook.catalog import write_catalog

    write_catalog(load_handbook(root))
