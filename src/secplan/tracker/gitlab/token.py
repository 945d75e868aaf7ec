"""Where the GitLab token comes from: ``GITLAB_TOKEN``, else the output of ``token_command``.

The token is never read from the configuration file itself (a file in a repository is the
wrong place for a secret), and never printed: errors here name the command, not its output.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping

from secplan.errors import UsageError

_HINT = (
    "Set GITLAB_TOKEN, or `token_command` in secplan.toml to a command that prints the token "
    '(for example `token_command = "pass show gitlab/secplan"`). The token needs the `api` scope.'
)


def resolve_token(token_command: str | None, env: Mapping[str, str] | None = None) -> str:
    """The token: ``GITLAB_TOKEN`` from ``env`` (default: the process environment), else the
    stripped standard output of ``token_command`` (run without a shell)."""
    env = os.environ if env is None else env
    token = (env.get("GITLAB_TOKEN") or "").strip()
    if token:
        return token
    if not token_command:
        raise UsageError(
            "no GitLab token: GITLAB_TOKEN is not set and no token_command", hint=_HINT
        )
    try:
        argv = shlex.split(token_command)
    except ValueError as exc:
        raise UsageError(f"token_command cannot be parsed: {exc}", hint=_HINT) from None
    if not argv:
        raise UsageError("token_command is empty", hint=_HINT)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        # exc names the program; it cannot hold the token (the token is what it would print)
        raise UsageError(f"token_command {argv[0]!r} could not run: {exc}", hint=_HINT) from None
    if done.returncode != 0:
        # stderr may be helpful ("not logged in"); stdout is where a token would be, so not shown
        detail = done.stderr.strip().splitlines()[-1:] if done.stderr else []
        raise UsageError(
            f"token_command {argv[0]!r} failed with exit code {done.returncode}"
            + (f": {detail[0][:200]}" if detail else ""),
            hint=_HINT,
        )
    token = done.stdout.strip()
    if not token:
        raise UsageError(f"token_command {argv[0]!r} printed nothing", hint=_HINT)
    return token
