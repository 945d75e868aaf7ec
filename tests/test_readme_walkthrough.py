"""The README's "Using secplan" walk-through, run verbatim in an empty directory.

Every command line of the section's shell block runs through bash (so its quoting and
redirections are the README's own) with a ``secplan`` on ``PATH`` that runs this checkout.
A line's trailing comment is its promise: ``exit N`` is the exit code it must have (0 when not
said), ``prints X`` text its output must contain, ``writes F`` a file it must create. ``secplan
serve`` runs until it answers its catalog page, on a free port (``--port`` added, since 8000
may be taken), and is then stopped.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT

README = PROJECT / "README.md"


def walkthrough_lines(text: str) -> list[str]:
    """The command lines of the first ``sh`` block below the "Using secplan" heading."""
    section = text.split("\n## Using secplan\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def split_comment(line: str) -> tuple[str, str]:
    """``(command, comment)``: the comment starts at the first ``#`` outside quotes that
    follows a space (``security/planning#1`` is part of the command)."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and i > 0 and line[i - 1] == " ":
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


@pytest.fixture
def secplan_bin(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``secplan`` is this checkout's."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "secplan"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m secplan "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    env.update({"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "NO_COLOR": "1"})
    env["COLUMNS"] = "200"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_until_up(command: str, cwd: Path, env: dict[str, str]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {command} --port {port}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"{command} exited early: {proc.stdout.read()}"  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    assert resp.status == 200
                    assert "Secrets rotation for CI runners" in resp.read().decode()
                    return
            except OSError:
                assert time.monotonic() < deadline, f"{command} never answered"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_walkthrough_has_the_commands_it_should() -> None:
    lines = walkthrough_lines(README.read_text(encoding="utf-8"))
    words = [split_comment(line)[0].split()[1] for line in lines]
    assert words[0] == "init"  # a new user starts with an empty directory
    assert {"new", "check", "catalog", "plan", "apply", "serve", "build"} <= set(words)


def test_split_comment_keeps_references() -> None:
    assert split_comment("secplan new 'a # b' --from-issue g/p#1   # writes x.md") == (
        "secplan new 'a # b' --from-issue g/p#1",
        "writes x.md",
    )


def test_readme_walkthrough_runs_verbatim(tmp_path: Path, secplan_bin: dict[str, str]) -> None:
    work = tmp_path / "handbook"
    work.mkdir()
    for line in walkthrough_lines(README.read_text(encoding="utf-8")):
        command, comment = split_comment(line)
        assert command.startswith("secplan "), line
        if command.split()[1] == "serve":
            _serve_until_up(command, work, secplan_bin)
            continue
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=secplan_bin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = re.search(r"\bexit (\d+)", comment)
        expected = int(said.group(1)) if said else 0
        output = done.stdout + done.stderr
        assert done.returncode == expected, f"{command}: exit {done.returncode}\n{output}"
        assert "Traceback" not in output, command
        printed = re.search(r"\bprints (\S+)", comment)
        if printed:
            assert printed.group(1) in done.stdout, f"{command}: {done.stdout}"
        written = re.search(r"\bwrites (\S+)", comment)
        if written:
            assert (work / written.group(1)).is_file(), command
    assert (work / "public" / "index.html").is_file()
    catalog = (work / "index.md").read_text(encoding="utf-8")
    assert "secrets-rotation-for-ci-runners" in catalog
