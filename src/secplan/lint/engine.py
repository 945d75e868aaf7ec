"""Run the rules over a handbook: severities, escalation, select/ignore, suppressions, order.

Every finding — from a rule function, from the parser (``plan.diagnostics``) or from a file the
loader could not read (``handbook.errors``) — goes through the same pipeline here, so severity,
``--select``/``--ignore``, configuration and ``<!-- secplan: ignore ... -->`` apply to all of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secplan.config import Config
from secplan.errors import UsageError
from secplan.handbook import plan_id
from secplan.lint.context import LENIENT_STATUSES, LintContext
from secplan.lint.registry import RULES, Finding, RuleInfo, all_rules, load_rule_modules
from secplan.model import READY_OR_LATER, Plan

if TYPE_CHECKING:
    from secplan.handbook import Handbook

INTERNAL_ERROR = "SP900"


# --- severity: the one place that knows how status changes a rule's severity ----------------


def _configured(config: Config, code: str) -> str | None:
    """The severity the config gives ``code`` (exact code, else the longest prefix)."""
    best: tuple[int, str] | None = None
    for key, value in config.severity.items():
        if code.startswith(key) and (best is None or len(key) > best[0]):
            best = (len(key), value)
    return best[1] if best else None


def severity_for(info: RuleInfo, status: str | None, config: Config) -> str | None:
    """The severity of ``info`` for a plan judged at ``status`` (None: handbook-level); None = off.

    - ``abandoned``/``superseded`` plans are judged leniently: only SP1xx and SP403 apply.
    - A rule is silent for the statuses in its ``silent_in`` (SP401, SP501 for drafts).
    - A configured severity (``[severity]`` in secplan.toml) is used as is; ``off`` disables.
    - Otherwise a rule that is a warning for draft/review is an error from ``ready`` on.
    """
    if status is not None:
        if status in LENIENT_STATUSES and not (
            info.code.startswith("SP1") or info.code in ("SP403", INTERNAL_ERROR)
        ):
            return None
        if status in info.silent_in:
            return None
    configured = _configured(config, info.code)
    if configured == "off":
        return None
    if configured:
        return configured
    if status in READY_OR_LATER and info.escalates and info.default_severity == "warning":
        return "error"
    return info.default_severity


# --- selection ------------------------------------------------------------------------------


def _split(values: Iterable[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


_CODE_PREFIX = re.compile(r"SP\d{0,3}", re.IGNORECASE)


def _matches(pattern: str, info: RuleInfo) -> bool:
    if pattern in ("ALL", info.name):
        return True
    return bool(_CODE_PREFIX.fullmatch(pattern)) and info.code.startswith(pattern.upper())


@dataclass
class Selector:
    """``--select``/``--ignore`` (and the config's ``ignore``): codes, prefixes, names or ALL."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        config_ignore: Iterable[str] = (),
    ) -> Selector:
        """Validate every pattern against the registry (a typo is a usage error, exit 2)."""
        load_rule_modules()
        sel, ign = _split(select), _split(ignore) + _split(config_ignore)
        for pattern in sel + ign:
            if not any(_matches(pattern, info) for info in RULES.values()):
                raise UsageError(
                    f"no rule matches {pattern!r}",
                    hint="Use a code (SP304), a prefix (SP3), a rule name or ALL; "
                    "see docs/rules.md.",
                )
        return cls(sel, ign)

    def enabled(self, info: RuleInfo) -> bool:
        """Whether a rule is selected and not ignored."""
        if self.select and not any(_matches(p, info) for p in self.select):
            return False
        return not any(_matches(p, info) for p in self.ignore)


# --- suppression ----------------------------------------------------------------------------


def _suppressed(plan: Plan, finding: Finding) -> bool:
    """``<!-- secplan: ignore CODE -->``: the parser files it under its own line and the next
    non-blank line; codes may be prefixes or ``ALL`` (line 0 would mean the whole file)."""
    if not plan.suppressions:
        return False
    for line in (finding.line, 0):
        codes = plan.suppressions.get(line)
        if codes is None:
            continue
        # A code suppresses the finding when it is one of the finding code's prefixes: a few
        # set lookups, however many codes the line's comments list.
        code = finding.code
        if not codes or "ALL" in codes or any(code[:n] in codes for n in range(1, len(code) + 1)):
            return True
    return False


# --- the run --------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """The findings of one check run, sorted by path, line, column and code."""

    findings: list[Finding] = field(default_factory=list)
    plans_checked: int = 0
    files_unreadable: int = 0
    notes: list[str] = field(default_factory=list)  # problems of the run itself (a failed fix)
    #: The output already written out, when the run came from (or made) a check snapshot
    #: (:mod:`secplan.lint.snapshot`): its UTF-8 text in chunks and its number of errors.
    #: ``findings`` is then empty when the snapshot answered.
    rendered: tuple[list[bytes | memoryview], int] | None = None

    def counts(self) -> Counter[str]:
        """Number of (unfixed) findings per severity."""
        return Counter(f.severity for f in self.findings if not f.fixed)

    def remaining(self) -> list[Finding]:
        """Findings not mended by ``--fix``."""
        return [f for f in self.findings if not f.fixed]

    @property
    def has_errors(self) -> bool:
        """Whether any remaining finding has error severity (exit code 1)."""
        if self.rendered is not None:
            return self.rendered[1] > 0
        return any(f.severity == "error" for f in self.remaining())

    def extend(self, other: CheckResult) -> None:
        """Merge another run (another handbook root) into this one, keeping the order."""
        self.findings.extend(other.findings)
        self.findings.sort(key=sort_key)
        self.plans_checked += other.plans_checked
        self.files_unreadable += other.files_unreadable
        self.notes.extend(other.notes)


def sort_key(f: Finding) -> tuple[str, int, int, str]:
    """Stable order: path, line, column, code."""
    return (f.path, f.line, f.column, f.code)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """A path as shown to the user: relative to the working directory when below it (as ruff)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to((cwd or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _shown(prefix: str | None, rel_path: str, path: Path, cwd: Path | None) -> str:
    """The displayed path of a file of the handbook: the root's displayed path + rel_path.

    Built from the relative path rather than resolved, so a symlink is shown as itself.
    """
    if prefix is None or not rel_path:
        return display_path(path, cwd)
    return f"{prefix.rstrip('/')}/{rel_path}" if prefix else rel_path


def _unknown(code: str) -> RuleInfo:
    return RuleInfo(code=code, name=f"parser-{code.lower()}", default_severity="error", summary="")


def _internal_error(code: str, exc: Exception) -> Finding:
    return Finding(
        INTERNAL_ERROR,
        f"rule {code} failed on this file ({type(exc).__name__}: {exc}); please report this",
        1,
    )


class Engine:
    """One configured check: which rules run and at which severity."""

    def __init__(self, config: Config, selector: Selector | None = None) -> None:
        load_rule_modules()
        self.config = config
        self.selector = selector or Selector.build(config_ignore=config.ignore)
        self.rules = [r for r in all_rules() if self.selector.enabled(r)]
        self.plan_rules = [r for r in self.rules if r.scope == "plan" and r.func]
        self.handbook_rules = [r for r in self.rules if r.scope == "handbook" and r.func]

    def context(
        self,
        handbook: Handbook,
        require_ready: bool = False,
        open_threads: Mapping[str, int] | None = None,
        plan_ids: set[str] | None = None,
        whole_handbook: bool = True,
        known_epics: frozenset[str] | None = None,
    ) -> LintContext:
        """What the rules share for one run over ``handbook`` (plan ids: the loaded plans)."""
        by_id = handbook.by_id()
        return LintContext(
            root=handbook.root,
            config=self.config,
            require_ready=require_ready,
            open_threads=open_threads or {},
            plan_ids=set(by_id) if plan_ids is None else plan_ids,
            plans_by_id=by_id,
            whole_handbook=whole_handbook,
            known_epics=known_epics,
        )

    def runs(self, code: str) -> bool:
        """Whether the rule ``code`` is selected in this run."""
        return any(r.code == code for r in self.rules)

    def _finish(
        self, finding: Finding, status: str | None, plan: Plan | None, path: str, rel: str
    ) -> Finding | None:
        info = RULES.get(finding.code) or _unknown(finding.code)
        if not self.selector.enabled(info):
            return None
        severity = severity_for(info, status, self.config)
        if severity is None or (plan is not None and _suppressed(plan, finding)):
            return None
        finding.name = info.name
        finding.severity = severity
        finding.fixable = finding.fixable or info.fixable
        finding.path = finding.path or path
        finding.rel_path = finding.rel_path or rel
        finding.plan = plan.id if plan is not None else finding.plan
        return finding

    def check_plan(
        self, plan: Plan, ctx: LintContext, cwd: Path | None = None, prefix: str | None = None
    ) -> list[Finding]:
        """Every finding for one plan (parser diagnostics included), unsorted.

        ``prefix`` is the handbook root as shown to the user (see :func:`display_path`); with
        it, paths are built from ``plan.rel_path`` instead of resolving each file.
        """
        status = ctx.status(plan)
        path = _shown(prefix, plan.rel_path, plan.path, cwd)
        raw: list[Finding] = [
            Finding(d.code, d.message, d.line, d.column, fixable=d.fixable)
            for d in plan.diagnostics
        ]
        # The parser is authoritative for the codes it reports; the rule for the same code only
        # covers what an older or more lenient parser let through.
        parsed = {f.code for f in raw}
        for info in self.plan_rules:
            if status in info.silent_in:
                continue
            try:
                for finding in info.func(plan, ctx):  # type: ignore[misc]
                    if finding.code not in parsed:
                        raw.append(finding)
            except Exception as exc:  # one broken rule must not stop the others
                raw.append(_internal_error(info.code, exc))
        out = []
        for finding in raw:
            done = self._finish(finding, status, plan, path, plan.rel_path)
            if done is not None:
                out.append(done)
        return out

    def check(
        self,
        handbook: Handbook,
        *,
        require_ready: bool = False,
        open_threads: Mapping[str, int] | None = None,
        plan_ids: set[str] | None = None,
        whole_handbook: bool = True,
        cwd: Path | None = None,
        known_epics: frozenset[str] | None = None,
    ) -> CheckResult:
        """Check every loaded plan of ``handbook`` plus the handbook-level rules."""
        if plan_ids is None:
            # Files that failed to load are still plans others may link to.
            plan_ids = {p.id for p in handbook.plans} | {
                plan_id(e.rel_path) for e in handbook.errors
            }
        ctx = self.context(
            handbook, require_ready, open_threads, plan_ids, whole_handbook, known_epics
        )
        result = CheckResult(plans_checked=len(handbook.plans))
        prefix = root_prefix(handbook.root, cwd)
        for plan in handbook.plans:
            result.findings.extend(self.check_plan(plan, ctx, cwd, prefix))
        result.files_unreadable = len(handbook.errors)
        result.findings.extend(self.error_findings(handbook, cwd, prefix))
        result.findings.extend(self.handbook_findings(handbook, ctx, cwd))
        result.findings.sort(key=sort_key)
        return result

    def error_findings(
        self, handbook: Handbook, cwd: Path | None = None, prefix: str | None = None
    ) -> list[Finding]:
        """Findings for the files the loader could not read as plans (``handbook.errors``)."""
        out = []
        for error in handbook.errors:
            finding = Finding(error.code or "SP100", error.message, error.line, error.column)
            shown = _shown(prefix, error.rel_path, error.path, cwd)
            done = self._finish(finding, None, None, shown, error.rel_path)
            if done is not None:
                out.append(done)
        return out

    def handbook_findings(
        self, handbook: Handbook, ctx: LintContext, cwd: Path | None = None
    ) -> list[Finding]:
        """Findings of the handbook-level rules (the catalog)."""
        out = []
        for info in self.handbook_rules:
            try:
                found = list(info.func(handbook, ctx))  # type: ignore[misc]
            except Exception as exc:
                found = [_internal_error(info.code, exc)]
                found[0].rel_path = handbook.catalog_path.name if handbook.catalog_path else ""
            for finding in found:
                done = self._finish(finding, None, None, "", finding.rel_path)
                if done is not None:
                    done.path = done.path or shown_path(handbook.root, done.rel_path, cwd)
                    out.append(done)
        return out


def root_prefix(root: Path, cwd: Path | None) -> str:
    """The handbook root as shown to the user, the prefix of every plan's displayed path."""
    prefix = display_path(root, cwd)
    return "" if prefix == "." else prefix


def shown_path(root: Path, rel_path: str, cwd: Path | None) -> str:
    """The displayed path of a handbook-level finding (the root itself when ``rel_path`` is '')."""
    return display_path(root / rel_path if rel_path else root, cwd)


def lint_plans(
    handbook: Handbook,
    plans: Iterable[Plan] | None = None,
    *,
    require_ready: bool = False,
    open_threads: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Findings for some plans of a loaded handbook, with the handbook's config (for the web UI).

    Handbook-level rules (the catalog) are not run; ``plans`` defaults to every plan.
    """
    engine = Engine(handbook.config)
    ctx = engine.context(handbook, require_ready, open_threads, whole_handbook=False)
    findings: list[Finding] = []
    for plan in handbook.plans if plans is None else plans:
        findings.extend(engine.check_plan(plan, ctx))
    findings.sort(key=sort_key)
    return findings
