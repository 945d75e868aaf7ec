"""secplan.lint: the readiness check behind ``secplan check``.

Public API:

- :func:`secplan.lint.runner.resolve_targets` / :func:`secplan.lint.runner.run_check` with
  :class:`secplan.lint.runner.CheckOptions` — what the CLI runs (PATHs, --fix, review threads).
- :class:`secplan.lint.engine.Engine` — rules over a loaded handbook (``check``) or one plan
  (``check_plan``); :func:`secplan.lint.engine.lint_plans` for callers holding a handbook.
- :func:`secplan.lint.engine.severity_for` — the one place status changes severity.
- :mod:`secplan.lint.registry` — ``@rule``, :class:`Finding`, :func:`all_rules`.
- :data:`secplan.lint.formats.FORMATS` — text, json, gitlab, sarif, github writers.

Every rule is documented in ``docs/rules.md``.
"""
