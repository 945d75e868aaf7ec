"""The start-up fast path of ``secplan check`` reads command lines exactly as Typer does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secplan.cli.fast import check_arguments
from secplan.cli.main import COMMANDS, app, register_commands
from secplan.errors import SecplanError
from tests.conftest import EXAMPLE_HANDBOOK, run_cli


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    root = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--exit-zero"],
        ["-f", "json", "--select", "SP3", "--select", "SP2"],
        ["--format=JSON", "--ignore=SP306", "--require", "ready"],
        ["-fgitlab", "--statistics"],
        ["admin-mfa", "--format", "sarif", "--exit-zero"],
        ["--select", "NOPE"],
        ["missing-plan"],
        ["--format", "text", "--statistics", "--require", "ready", "--exit-zero"],
    ],
)
def test_the_fast_path_matches_typer(handbook: Path, args: list[str]) -> None:
    assert check_arguments(args) is not None  # these all take the fast path
    fast = run_cli("check", *args, cwd=handbook)
    register_commands(None)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(handbook)
        mp.setenv("NO_COLOR", "1")
        typer_run = CliRunner().invoke(app, ["check", *args])
    code = typer_run.exit_code
    if isinstance(typer_run.exception, SecplanError):  # main() turns these into Error: lines
        code = typer_run.exception.exit_code
    assert fast.returncode == code, (fast.stderr, typer_run.output)
    if fast.returncode != 2:
        assert fast.stdout == typer_run.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--format", "xml"],
        ["--require", "READY"],
        ["--format"],
        ["--unknown"],
        ["--", "x"],
        ["-"],
        ["--fix=yes"],
    ],
)
def test_anything_unusual_goes_through_typer(args: list[str], tmp_path: Path) -> None:
    assert check_arguments(args) is None
    result = run_cli("check", *args, cwd=tmp_path)
    assert result.returncode in (0, 2)
    assert "Traceback" not in result.stderr


def test_a_file_as_root_is_left_to_typer(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", "utf-8")
    assert check_arguments(["--root", str(tmp_path / "f")]) is None
    assert run_cli("check", "--root", str(tmp_path / "f"), cwd=tmp_path).returncode == 2


def test_the_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPLAN_DATABASE_URL", "sqlite:///x.db")
    assert check_arguments([])["database_url"] == "sqlite:///x.db"  # type: ignore[index]
    assert check_arguments(["--database-url", "sqlite:///y.db"])["database_url"] == (  # type: ignore[index]
        "sqlite:///y.db"
    )


def test_a_check_imports_neither_typer_nor_pydantic_nor_sqlalchemy(handbook: Path) -> None:
    script = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in ('typer', 'pydantic', 'sqlalchemy',"
        " 'rich') if m in sys.modules), file=sys.stderr))\n"
        "from secplan.cli.fast import main\n"
        "sys.argv = ['secplan', 'check', '--exit-zero']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=handbook, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "[]"


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    register_commands(None)
    import typer.main

    group = typer.main.get_command(app)
    assert sorted(group.commands) == sorted(COMMANDS)  # type: ignore[attr-defined]


def test_a_warm_check_does_not_load_the_markdown_parser(handbook: Path) -> None:
    # Nor PyYAML, --fix's module or the writers of formats it does not write: start-up is
    # most of a small check.
    script = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in ('pyromark', 'secplan.markdown.parser',"
        " 'secplan.handbook.adopt', 'yaml', 'secplan.lint.fix', 'secplan.lint.formats.json_format')"
        " if m in sys.modules), file=sys.stderr))\n"
        "from secplan.cli.fast import main\n"
        "sys.argv = ['secplan', 'check', '--exit-zero']\n"
        "main()\n"
    )

    def loaded() -> str:
        run = subprocess.run(
            [sys.executable, "-c", script], cwd=handbook, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        return run.stderr.strip().splitlines()[-1]

    assert "secplan.markdown.parser" in loaded()  # cold: every plan is parsed
    assert loaded() == "[]"  # warm: plans and findings come from the caches


def test_version_reads_neither_the_model_nor_toml(tmp_path: Path) -> None:
    script = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in ('secplan.model', 'tomllib', 'yaml')"
        " if m in sys.modules), file=sys.stderr))\n"
        "from secplan.cli.fast import main\n"
        "sys.argv = ['secplan', '--version']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("secplan ")
    assert run.stderr.strip().splitlines()[-1] == "[]"
