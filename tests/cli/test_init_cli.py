"""``secplan init``: run for real, in empty and half-made directories and on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import yaml

from secplan.config import load_config
from tests.conftest import run_cli
from tests.snapshot import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".secplan" not in p.parts
    }


def test_init_in_an_empty_directory_makes_a_handbook_that_checks(tmp_path: Path) -> None:
    root = tmp_path / "hb"
    done = run_cli(
        "init", str(root), "--group", "sec", "--project", "sec/planning", "--backend", "local"
    )
    assert done.returncode == 0, done.stderr
    assert_snapshot(SNAPSHOTS, "init-stdout.txt", done.stdout.replace(str(root), "ROOT"))
    assert done.stderr == ""  # every value was given: nothing defaulted, nothing to say
    assert sorted(_tree(root)) == [".gitignore", "example-plan.md", "index.md", "secplan.toml"]
    assert_snapshot(SNAPSHOTS, "init-secplan.toml", (root / "secplan.toml").read_text())
    config = load_config(root)
    assert (config.group, config.tracker, config.backend) == ("sec", "sec/planning", "local")
    assert (root / ".gitignore").read_text() == ".secplan/\n"
    catalog = (root / "index.md").read_text()
    assert "[Example plan](./example-plan)" in catalog  # the table was filled in
    check = run_cli("check", cwd=root)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error" not in check.stdout
    stale = run_cli("check", "--select", "SP001", cwd=root)  # SP001: catalog out of date
    assert "SP001" not in stale.stdout


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path), "--ci").returncode == 0
    before = _tree(tmp_path)
    again = run_cli("init", str(tmp_path), "--ci")
    assert again.returncode == 0, again.stderr
    assert "Nothing to do" in again.stdout
    assert _tree(tmp_path) == before
    # without options a re-run takes its values from secplan.toml, not from the defaults
    run_cli("init", str(tmp_path), "--project", "sec/other", "--force")
    bare = run_cli("init", str(tmp_path))
    assert bare.returncode == 0, bare.stderr
    assert load_config(tmp_path).tracker == "sec/other"


def test_without_a_terminal_it_uses_defaults_and_says_so(tmp_path: Path) -> None:
    done = run_cli("init", cwd=tmp_path, input="")
    assert done.returncode == 0, done.stderr
    assert "nothing was asked" in done.stderr
    assert "--group security" in done.stderr and "--project security/planning" in done.stderr
    assert load_config(tmp_path).tracker == "security/planning"


def test_gitignore_is_appended_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules")  # no final newline
    run_cli("init", str(tmp_path))
    assert (tmp_path / ".gitignore").read_text() == "node_modules\n.secplan/\n"
    (tmp_path / "secplan.toml").unlink()
    run_cli("init", str(tmp_path))
    assert (tmp_path / ".gitignore").read_text().count(".secplan") == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / ".gitignore").write_text("/.secplan\n")
    run_cli("init", str(other))
    assert (other / ".gitignore").read_text() == "/.secplan\n"


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text('group = "mine"\ntracker = "mine/plans"\n')
    done = run_cli("init", str(tmp_path), "--group", "theirs", "--project", "theirs/p")
    assert done.returncode == 1
    assert f"Error: {tmp_path / 'secplan.toml'}: secplan.toml already exists" in done.stderr
    assert "Hint: Pass --force" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(_tree(tmp_path)) == ["secplan.toml"]  # nothing else was written
    forced = run_cli("init", str(tmp_path), "--group", "theirs", "--project", "theirs/p", "--force")
    assert forced.returncode == 0, forced.stderr
    assert load_config(tmp_path).group == "theirs"


def test_a_catalog_page_without_markers_points_to_adopt(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# Our plans\n\n| Plan | Epic |\n| --- | --- |\n")
    done = run_cli("init", str(tmp_path))
    assert done.returncode == 1
    assert "index.md already exists" in done.stderr
    assert "secplan adopt" in done.stderr
    assert (tmp_path / "index.md").read_text().startswith("# Our plans")


def test_gitlab_backend_and_bad_values(tmp_path: Path) -> None:
    done = run_cli(
        "init",
        str(tmp_path),
        "--backend",
        "gitlab",
        "--gitlab-url",
        "https://gitlab.example.com",
        "--group",
        "sec",
        "--project",
        "sec/planning",
    )
    assert done.returncode == 0, done.stderr
    config = load_config(tmp_path)
    assert (config.backend, config.gitlab_url) == ("gitlab", "https://gitlab.example.com")
    assert "GITLAB_TOKEN" in (tmp_path / "secplan.toml").read_text()
    for args, word in (
        (["--backend", "jira"], "--backend"),
        (["--backend", "gitlab", "--gitlab-url", "gitlab.example.com"], "--gitlab-url"),
        (["--project", "planning"], "--project"),
        (["--group", "a b"], "--group"),
    ):
        bad = run_cli("init", str(tmp_path / "bad"), *args)
        assert bad.returncode == 2, (args, bad.stderr)
        assert f"Error: {word}" in bad.stderr and "Hint:" in bad.stderr
        assert not (tmp_path / "bad").exists()


def test_ci_template_is_written_and_is_yaml(tmp_path: Path) -> None:
    done = run_cli(
        "init", str(tmp_path), "--ci", "--backend", "gitlab", "--gitlab-url", "https://gl.example"
    )
    assert done.returncode == 0, done.stderr
    ci = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    assert ci["check"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert "secplan plan --mr-note" in ci["plan"]["script"]
    assert ci["apply"]["resource_group"]
    assert "secplan apply --write-back" in ci["apply"]["script"]
    assert ci["pages"]["script"] == ['secplan build --out public --base-url "$CI_PAGES_URL"']
    assert "Note: the CI jobs" not in done.stderr  # the gitlab backend needs no warning


def test_on_a_terminal_it_asks_for_what_is_missing(tmp_path: Path) -> None:
    """Run under a pseudo-terminal and answer Typer's prompts."""
    env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secplan", "init", str(tmp_path), "--group", "appsec"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    answers = iter(["appsec/roadmap\n", "gitlab\n", "https://gitlab.example.org\n"])
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None or select.select([master], [], [], 0)[0]:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if seen.rstrip().endswith(b":"):
                os.write(master, next(answers).encode())
    finally:
        os.close(master)
        proc.wait(timeout=30)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "GitLab group" not in text  # given as an option: not asked
    assert "Project for new issues [appsec/planning]" in text
    config = tomllib.loads((tmp_path / "secplan.toml").read_text())
    assert config["tracker"] == "appsec/roadmap"
    assert (config["backend"], config["gitlab_url"]) == ("gitlab", "https://gitlab.example.org")
    assert "nothing was asked" not in text


def test_a_hand_written_config_that_agrees_is_kept(tmp_path: Path) -> None:
    text = '# ours\ngroup = "sec"\ntracker = "sec/plans"\nlabels = ["security"]\n'
    (tmp_path / "secplan.toml").write_text(text)
    done = run_cli("init", str(tmp_path))  # values from the file: nothing to overwrite
    assert done.returncode == 0, done.stderr
    assert "Kept secplan.toml" in done.stdout
    assert (tmp_path / "secplan.toml").read_text() == text
    assert (tmp_path / "index.md").is_file() and (tmp_path / "example-plan.md").is_file()
    differs = run_cli("init", str(tmp_path), "--project", "sec/other")
    assert differs.returncode == 1 and "secplan.toml already exists" in differs.stderr


def test_a_file_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("# notes\n")
    done = run_cli("init", str(target))
    assert done.returncode == 1
    assert "is not a directory" in done.stderr and "Hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_text() == "# notes\n"
