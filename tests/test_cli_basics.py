"""The CLI runs as a real process: version, help on every command, exit codes."""

from __future__ import annotations

import re

from secplan import __version__
from tests.conftest import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"secplan {__version__}"


def test_no_arguments_shows_help_and_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "Usage" in result.stdout + result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_every_command_has_help() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    commands = re.findall(r"^│ (\w[\w-]*)\s", top.stdout, flags=re.M)
    for name in commands:
        result = run_cli(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "Usage" in result.stdout
