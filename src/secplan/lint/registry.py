"""The rule registry: every rule code secplan knows, its name, severity and how it is checked.

A rule is a function decorated with :func:`rule`. Plan rules take ``(plan, ctx)``, handbook
rules ``(handbook, ctx)``; both yield :class:`Finding` objects holding only what the rule knows
(code, message, line, column). The engine fills in name, severity, path and plan.

Some codes are found by the parser, not by a rule function (a YAML error can only be seen while
reading the file); those are declared with :func:`declare` so they still have a name, a severity
and documentation, and pass through the same severity / select / ignore / suppression pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Scope = Literal["plan", "handbook", "parser"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(slots=True)
class Finding:
    """One problem. Rules set code, message, line and column; the engine sets the rest."""

    code: str
    message: str
    line: int = 1
    column: int = 1
    name: str = ""
    severity: str = ""
    path: str = ""  # as shown to the user (relative to the working directory when possible)
    rel_path: str = ""  # relative to the handbook root, POSIX separators
    plan: str | None = None  # plan id; None for handbook-level findings (catalog, unreadable file)
    fixable: bool = False
    fixed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape scripts depend on."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "plan": self.plan,
            "fixable": self.fixable,
        }


@dataclass(frozen=True)
class RuleInfo:
    """What the registry knows about one code."""

    code: str
    name: str
    default_severity: Severity
    summary: str
    fixable: bool = False
    scope: Scope = "plan"
    #: A warning for draft/review becomes an error from ``ready`` on (see engine.severity_for).
    escalates: bool = True
    #: Statuses in which the rule says nothing at all (SP401 is silent for drafts).
    silent_in: frozenset[str] = field(default_factory=frozenset)
    func: Callable[..., Iterable[Finding]] | None = None


RULES: dict[str, RuleInfo] = {}


def _register(info: RuleInfo) -> None:
    if info.code in RULES:
        raise ValueError(f"rule code {info.code} registered twice")
    if any(r.name == info.name for r in RULES.values()):
        raise ValueError(f"rule name {info.name} registered twice")
    RULES[info.code] = info


def rule(
    code: str,
    name: str,
    default_severity: Severity,
    fixable: bool = False,
    summary: str = "",
    *,
    scope: Literal["plan", "handbook"] = "plan",
    escalates: bool = True,
    silent_in: Iterable[str] = (),
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register a rule function under ``code`` (``SPnnn``) and ``name`` (kebab-case)."""

    def wrap(func: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        _register(
            RuleInfo(
                code=code,
                name=name,
                default_severity=default_severity,
                summary=summary or (func.__doc__ or "").strip().splitlines()[0],
                fixable=fixable,
                scope=scope,
                escalates=escalates,
                silent_in=frozenset(silent_in),
                func=func,
            )
        )
        return func

    return wrap


def declare(
    code: str,
    name: str,
    default_severity: Severity,
    summary: str,
    *,
    escalates: bool = False,
    silent_in: Iterable[str] = (),
) -> None:
    """Register a code that only the parser/loader produces (no rule function)."""
    _register(
        RuleInfo(
            code=code,
            name=name,
            default_severity=default_severity,
            summary=summary,
            scope="parser",
            escalates=escalates,
            silent_in=frozenset(silent_in),
        )
    )


declare(
    "SP900",
    "internal-error",
    "error",
    "A rule failed on a file; the other rules and files were still checked. Please report it.",
)


def all_rules() -> list[RuleInfo]:
    """Every registered rule, rule modules loaded, sorted by code."""
    load_rule_modules()
    return [RULES[c] for c in sorted(RULES)]


_loaded = False


def load_rule_modules() -> None:
    """Import the rule modules once so their decorators run."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from secplan.lint import (  # noqa: F401
        rules_anchors,
        rules_catalog,
        rules_frontmatter,
        rules_lifecycle,
        rules_review,
        rules_work,
    )
