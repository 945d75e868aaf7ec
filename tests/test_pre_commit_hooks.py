"""``.pre-commit-hooks.yaml``: well-formed for pre-commit, and every hook's command really runs."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

from secplan.cli.main import COMMANDS
from tests.conftest import PROJECT, run_cli

HOOKS = PROJECT / ".pre-commit-hooks.yaml"
#: pre-commit's manifest: required keys and the language values it knows
#: (https://pre-commit.com/#new-hooks; pre_commit/clientlib.py MANIFEST_HOOK_DICT).
REQUIRED = {"id", "name", "entry", "language"}
OPTIONAL = {
    "alias", "files", "exclude", "types", "types_or", "exclude_types", "additional_dependencies",
    "args", "always_run", "fail_fast", "pass_filenames", "description", "language_version",
    "log_file", "require_serial", "stages", "verbose", "minimum_pre_commit_version",
}  # fmt: skip


def _hooks() -> list[dict[str, object]]:
    data = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def test_the_hooks_are_the_documented_ones() -> None:
    hooks = _hooks()
    assert [h["id"] for h in hooks] == ["secplan-check", "secplan-catalog"]
    for hook in hooks:
        assert set(hook) >= REQUIRED, hook
        assert set(hook) <= REQUIRED | OPTIONAL, hook
        assert hook["language"] == "python"  # pre-commit installs this repository with pip
        files = re.compile(str(hook["files"]))
        assert files.search("plans/rotation.md") and files.search("secplan.toml")
        assert not files.search("src/app.py")


def test_each_entry_is_a_real_command(tmp_path: Path) -> None:
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    assert run_cli("init", str(tmp_path)).returncode == 0
    for hook in _hooks():
        program, command, *options = shlex.split(str(hook["entry"]))
        assert program in scripts  # the console script pip installs
        assert command in COMMANDS
        helped = run_cli(command, "--help")
        for option in options:
            assert option in helped.stdout, (hook["id"], option)
        done = run_cli(command, *options, cwd=tmp_path)  # as pre-commit runs it: in the repo
        assert done.returncode == 0, (hook["id"], done.stdout, done.stderr)
