"""Handbook configuration: `secplan.toml` at the root, or `[tool.secplan]` in `pyproject.toml`.

The schema is declarative (:data:`SCHEMA`); :func:`load_config` validates the whole file and
reports every problem at once, the way mkdocs does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secplan.errors import ConfigError
from secplan.statuses import STATUSES

ANCHOR_FLAVOURS = ("gitlab", "kramdown", "github")
BACKENDS = ("local", "gitlab")
SEVERITIES = ("error", "warning", "info", "off")


@dataclass
class Config:
    """Resolved configuration for one handbook."""

    root: Path
    tracker: str | None = None  # default project path for new issues ("group/project")
    group: str | None = None  # default group for epics and milestones
    labels: list[str] = field(default_factory=list)  # added to every epic and issue
    anchor_flavour: str = "gitlab"
    detail_words: int = 12  # SP304 threshold
    severity: dict[str, str] = field(default_factory=dict)  # code -> error|warning|info|off
    ignore: list[str] = field(default_factory=list)  # codes or prefixes never reported
    base_url: str | None = None  # where the handbook is published, for permalinks
    gitlab_url: str | None = None  # GitLab instance, e.g. "https://gitlab.com" (catalog epic links)
    database_url: str | None = None
    backend: str = "local"  # where Epics, Milestones and Issues live: local | gitlab
    token_command: str | None = None  # prints the GitLab token (never the token itself)
    web_users: dict[str, str] = field(default_factory=dict)  # name -> password hash (serve)
    known_keys: list[str] = field(default_factory=list)  # front-matter keys SP105 accepts too
    statuses: dict[str, str] = field(default_factory=dict)  # handbook status word -> secplan's
    board_scope: str = "workflow"  # scoped labels "<scope>::<column>" are the board's columns
    source_file: Path | None = None


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _str(x) for k, x in v.items())


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _severity_map(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(s, str) and s in SEVERITIES for k, s in v.items()
    )


def _status_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and x in STATUSES for k, x in v.items())


def _flavour(v: Any) -> bool:
    return v in ANCHOR_FLAVOURS


def _scope(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip()) and "::" not in v


def _backend(v: Any) -> bool:
    return v in BACKENDS


#: key -> (validator, description of what is expected)
SCHEMA: dict[str, tuple[Any, str]] = {
    "tracker": (_str, "a project path such as 'security/planning'"),
    "group": (_str, "a group path such as 'security'"),
    "labels": (_str_list, "a list of label names"),
    "anchor_flavour": (_flavour, f"one of {', '.join(ANCHOR_FLAVOURS)}"),
    "detail_words": (_positive_int, "a whole number >= 0"),
    "severity": (_severity_map, f"a table of rule code -> one of {', '.join(SEVERITIES)}"),
    "ignore": (_str_list, "a list of rule codes or prefixes"),
    "base_url": (_str, "a URL"),
    "gitlab_url": (_str, "the GitLab instance URL, such as 'https://gitlab.com'"),
    "database_url": (_str, "an SQLAlchemy database URL"),
    "backend": (_backend, f"one of {', '.join(BACKENDS)}"),
    "token_command": (_str, "a command that prints the GitLab token, such as 'pass show gitlab'"),
    "web_users": (
        _str_map,
        "a table of user name -> password hash (from 'secplan serve --hash-password')",
    ),
    "known_keys": (_str_list, "a list of front-matter key names"),
    "board_scope": (_scope, "a label scope such as 'workflow' (labels 'workflow::doing', ...)"),
    "statuses": (
        _status_map,
        f"a table of status word -> one of {', '.join(STATUSES)}",
    ),
}


def _kind(value: Any) -> str:
    """What sort of TOML value ``value`` is, for an error that must not echo it."""
    if isinstance(value, bool):
        return "true/false"
    kinds: tuple[tuple[type, str], ...] = (
        (str, "a string"),
        (int, "a whole number"),
        (float, "a number"),
        (list, "a list"),
        (dict, "a table"),
    )
    for kind, name in kinds:
        if isinstance(value, kind):
            if kind is str and not value:
                return "an empty string"
            return name
    return "a date or time"


def _web_user_problems(users: dict[str, Any], expected: str) -> list[str]:
    """One problem per bad ``web_users`` entry, naming the user, never the value."""
    out: list[str] = []
    for name, hashed in users.items():
        what = f"'web_users' entry '{name}' must be a password hash"
        if not isinstance(hashed, str):
            out.append(f"{what} (a string), got {_kind(hashed)}")
        elif not hashed.startswith(PASSWORD_HASH_SCHEMES):
            # Most likely a plain password: say so without showing it.
            out.append(f"{what} from 'secplan serve --hash-password', got a string that is not one")
    if not out and not _str_map(users):
        out.append(f"'web_users' must be {expected}")
    return out


#: How the hashes ``secplan serve --hash-password`` makes (and the older PBKDF2 ones) begin.
PASSWORD_HASH_SCHEMES = ("scrypt$", "pbkdf2_sha256$")


#: Keys people try for a token; refused with a pointer to the safe ways.
_SECRET_KEYS = frozenset({"token", "gitlab_token", "private_token", "access_token"})


def _read_table(root: Path) -> tuple[dict[str, Any], Path | None]:
    toml_path = root / "secplan.toml"
    pyproject = root / "pyproject.toml"
    for path, sub in ((toml_path, None), (pyproject, ("tool", "secplan"))):
        if not path.is_file():
            continue
        import tomllib  # here, not at the top: a handbook without configuration never needs it

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([str(exc)], path=path) from None
        if sub is None:
            return data, path
        table: Any = data
        for key in sub:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict):
            return table, path
    return {}, None


def find_config_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` that holds a secplan configuration.

    Commands run without ``--root`` use it, so they work from inside a plan's folder the way git
    and ruff find their configuration; a handbook without configuration is taken as the
    current directory.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "secplan.toml").is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            try:
                tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue
            if isinstance(tool, dict) and isinstance(tool.get("secplan"), dict):
                return folder
    return None


def load_config(root: Path) -> Config:
    """Read and validate the handbook's configuration; defaults when there is none."""
    table, source = _read_table(root)
    problems: list[str] = []
    for key, value in table.items():
        if key in _SECRET_KEYS:
            problems.append(
                f"'{key}': secplan never reads a token from its configuration file (it would be "
                "committed); set GITLAB_TOKEN, or token_command to a command that prints it"
            )
            continue
        if key not in SCHEMA:
            problems.append(f"unknown key '{key}' (known: {', '.join(sorted(SCHEMA))})")
            continue
        check, expected = SCHEMA[key]
        if key == "web_users" and isinstance(value, dict):
            problems.extend(_web_user_problems(value, expected))
        elif not check(value):
            # Name the key and what it got, never the value: it may hold a password.
            problems.append(f"'{key}' must be {expected}, got {_kind(value)}")
    if problems:
        raise ConfigError(problems, path=source)
    cfg = Config(root=root, source_file=source)
    for key, value in table.items():
        setattr(cfg, key, value)
    return cfg
