"""``secplan apply`` / ``status`` run as the CLI against the GitLab backend (the GitLab stand-in,
a real HTTP server the subprocess talks to): ``--stats``, the epic mode, the progress bar."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.gitlab_fake import FakeGitLab
from tests.sync.conftest import SYNC_FIXTURES

STATS_LINE = re.compile(
    r"^API calls: (\d+) reads, (\d+) writes, (\d+) retries, (\d+) waits \((\d+\.\d) s\)$", re.M
)


def gitlab_handbook(dest: Path, fake: FakeGitLab) -> Path:
    """The sync fixture handbook configured for the GitLab backend on ``fake``."""
    shutil.copytree(SYNC_FIXTURES / "basic", dest)
    config = dest / "secplan.toml"
    config.write_text(
        f'backend = "gitlab"\ngitlab_url = "{fake.url}"\n' + config.read_text("utf-8"), "utf-8"
    )
    return dest


# The CLI without GitLab.com's pacing (a third of a second between creations), which would make
# each of these applies take many seconds; the paced CLI is run once, to count its waits.
UNPACED_CLI = [
    "-c",
    "import sys; from secplan.tracker.gitlab.stats import PACE_INTERVALS; PACE_INTERVALS.clear(); "
    "from secplan.cli.main import main; sys.argv[0] = 'secplan'; main()",
]


def secplan(fake: FakeGitLab, *args: str, paced: bool = False) -> subprocess.CompletedProcess[str]:
    """``secplan ARGS`` with the token of ``fake``; unpaced unless ``paced``."""
    env = {"GITLAB_TOKEN": fake.token}
    if paced:
        return run_cli(*args, env=env)
    full_env = {k: v for k, v in os.environ.items() if k != "SECPLAN_DATABASE_URL"}
    full_env.update(NO_COLOR="1", COLUMNS="200", **env)
    return subprocess.run(
        [sys.executable, *UNPACED_CLI, *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def counted(fake: FakeGitLab, since: int) -> tuple[int, int]:
    """(reads, writes) among the requests the stand-in received after the ``since``-th: GETs
    and GraphQL queries read, everything else writes."""
    reads = writes = 0
    with fake.lock:
        for r in fake.requests[since:]:
            query = r.body.get("query", "") if isinstance(r.body, dict) else ""
            mutation = query.lstrip().startswith("mutation")
            if r.method == "GET" or (r.path == "graphql" and not mutation):
                reads += 1
            else:
                writes += 1
    return reads, writes


def test_apply_stats_counts_every_request_the_server_saw(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    first = secplan(fake, "apply", "--root", str(hb), "--create-epic", "--stats", paced=True)
    assert first.returncode == 0, first.stderr
    m = STATS_LINE.search(first.stderr)
    assert m is not None, first.stderr
    reads, writes = counted(fake, 0)
    assert (int(m[1]), int(m[2])) == (reads, writes)
    assert writes >= 2 + 3 + 6  # two epics, three milestones, six issues at least
    assert m[3] == "0"  # no retries
    # Pacing below GitLab.com's limits: 8 creations (epics and issues) are 7 waits at least.
    assert int(m[4]) >= 7 and float(m[5]) > 1.5

    mark = len(fake.requests)
    again = secplan(fake, "apply", "--root", str(hb), "--create-epic", "--stats")
    assert again.returncode == 0, again.stderr
    m = STATS_LINE.search(again.stderr)
    assert m is not None and int(m[2]) == 0
    assert (int(m[1]), 0) == counted(fake, mark)


def test_apply_stats_counts_retries_and_waits(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    # A rate-limited issue creation (told to wait 1 s) and a 502 on a listing (backoff 0.5 s).
    fake.fail("POST", r"^projects/.+/issues$", 429, headers={"Retry-After": "1"})
    fake.fail("GET", r"^groups/.+/milestones$", 502)
    result = secplan(fake, "apply", "--root", str(hb), "--stats")
    assert result.returncode == 0, result.stderr
    m = STATS_LINE.search(result.stderr)
    assert m is not None, result.stderr
    assert (m[3], m[4]) == ("2", "2")
    assert float(m[5]) == pytest.approx(1.5, abs=0.05)
    assert (int(m[1]), int(m[2])) == counted(fake, 0)
    issues = [i for i in fake.state.issues if "secplan:plan=" in i.description]
    assert len(issues) == 6  # the refused create was not counted twice nor made twice


def test_apply_without_stats_prints_no_counts(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    result = secplan(fake, "apply", "--root", str(hb))
    assert result.returncode == 0, result.stderr
    assert "API calls" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("tier", "mode"),
    [("ultimate", "work-item epics"), ("premium", "REST epics"), ("free", "tracking issue")],
)
def test_status_names_the_epic_mode(tmp_path: Path, tier: str, mode: str):
    from tests.gitlab_fake import start_fake

    fake = start_fake(tier)
    try:
        for project in ("appsec/planning", "appsec/scanners"):
            fake.state.add_project(project)
        fake.state.add_user("rin.sato")
        hb = gitlab_handbook(tmp_path / "hb", fake)
        applied = secplan(fake, "apply", "--root", str(hb), "--create-epic")
        assert applied.returncode == 0, applied.stderr
        text = secplan(fake, "status", "--root", str(hb))
        assert text.returncode == 0, text.stderr
        assert text.stdout.splitlines()[-1] == f"tracker: gitlab:{fake.url} ({mode})"
        as_json = secplan(fake, "status", "--root", str(hb), "--format", "json")
        assert as_json.returncode == 0, as_json.stderr
        rows = json.loads(as_json.stdout)
        assert {r["mode"] for r in rows} == {mode}
        assert all(r["epic"] for r in rows)  # each plan got its epic (or tracking issue)
    finally:
        fake.stop()


def write_long_plan(root: Path, n: int) -> None:
    lines = ["---", "title: Long haul", "status: ready", "---", "", "# Long haul", "", "## Work"]
    lines.append("")
    lines += [f"- [ ] Harden [host] number {i}" for i in range(n)]
    (root / "long.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_on_a_terminal(fake: FakeGitLab, *args: str) -> tuple[int, str, str]:
    """``secplan ARGS`` with its stderr on a pseudo-terminal (stdout a pipe); returns the exit
    code, stdout and everything written to the terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECPLAN_DATABASE_URL", "FORCE_COLOR")}
    env.update(GITLAB_TOKEN=fake.token, TERM="xterm-256color", COLUMNS="120", NO_COLOR="1")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, *UNPACED_CLI, *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = bytearray()
    assert proc.stdout is not None
    out = bytearray()
    streams = [master, proc.stdout.fileno()]
    while streams:
        ready, _, _ = select.select(streams, [], [], 60)
        assert ready, "secplan hung"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closes with the process
                chunk = b""
            if not chunk:
                streams.remove(fd)
            elif fd == master:
                seen += chunk
            else:
                out += chunk
    os.close(master)
    return proc.wait(timeout=60), out.decode(), seen.decode(errors="replace")


def test_long_apply_on_a_terminal_shows_a_bar_with_an_eta(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    write_long_plan(hb, 40)
    code, out, terminal = run_on_a_terminal(fake, "apply", "--root", str(hb))
    assert code == 0, terminal
    assert "ETA" in terminal
    # one step per change: 40 + 6 issues and 3 milestones
    assert "0/49" in terminal and "49/49" in terminal, terminal
    # stdout is a pipe: its lines stay there, none is drawn on the terminal
    assert out.count("+ created issue") == 46
    assert "+ created" not in terminal


def test_no_bar_in_json_output_or_off_a_terminal(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    write_long_plan(hb, 40)
    code, out, terminal = run_on_a_terminal(fake, "apply", "--root", str(hb), "--format", "json")
    assert code == 0, terminal
    assert "ETA" not in terminal
    assert json.loads(out)["ok"] is True
    (hb / "long.md").write_text((hb / "long.md").read_text("utf-8") + "- [ ] One more\n", "utf-8")
    piped = secplan(fake, "apply", "--root", str(hb))
    assert piped.returncode == 0, piped.stderr
    assert "ETA" not in piped.stderr and "\x1b" not in piped.stderr


def test_short_apply_shows_no_bar(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    code, out, terminal = run_on_a_terminal(fake, "apply", "--root", str(hb))
    assert code == 0, terminal
    assert "ETA" not in terminal
    assert out.count("+ created issue") == 6


def test_plan_apply_coverage_and_promote_through_the_cli(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    planned = secplan(fake, "plan", "--root", str(hb), "--format", "json", "--create-epic")
    assert planned.returncode == 0, planned.stderr
    changes = json.loads(planned.stdout)
    assert {c["action"] for c in changes} == {"create"} and len(changes) == 2 + 3 + 6
    assert [r for r in fake.requests if r.method not in ("GET",) and r.path != "graphql"] == []

    applied = secplan(fake, "apply", "--root", str(hb), "--create-epic")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.rstrip().endswith(
        "Apply: 11 created, 0 updated, 0 unchanged, 0 drift, 0 orphans."
    )
    after = secplan(fake, "plan", "--root", str(hb), "--format", "json")
    assert {c["action"] for c in json.loads(after.stdout)} == {"unchanged"}

    # --write-back puts GitLab's refs into the plans; nothing changes in GitLab for it
    mark = len(fake.requests)
    written = secplan(fake, "apply", "--root", str(hb), "--write-back")
    assert written.returncode == 0, written.stderr
    assert "wrote 5 ref(s) into token-hardening.md" in written.stdout
    text = (hb / "token-hardening.md").read_text("utf-8")
    assert re.search(r"^epic: appsec&\d+", text, re.M)
    assert counted(fake, mark)[1] == 0

    covered = secplan(fake, "coverage", "--root", str(hb), "--format", "json")
    assert covered.returncode == 0, covered.stderr
    totals = {pc["plan"]: pc["totals"] for pc in json.loads(covered.stdout)}
    assert totals["token-hardening"]["uncovered"] == 0
    assert totals["scanner-rollout"]["open"] == 2

    # promote: the quick action on an issue of the project, the epic ref printed last
    issue = re.findall(r"^\+ created issue (appsec/planning#\d+) ", applied.stdout, re.M)[0]
    promoted = secplan(fake, "promote", "--root", str(hb), issue)
    assert promoted.returncode == 0, promoted.stderr
    epic_ref = promoted.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"appsec&\d+", epic_ref)
    assert f"Promoted {issue} to epic {epic_ref}" in promoted.stderr
    with fake.lock:
        notes = [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/notes")]
    assert {"body": "/promote"} in notes


def test_a_rejected_token_stops_at_once_and_is_never_printed(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    wrong = "glpat-WrongTokenValue0000"
    result = run_cli("apply", "--root", str(hb), env={"GITLAB_TOKEN": wrong})
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert wrong not in result.stdout + result.stderr
    with fake.lock:
        assert all(r.method == "GET" for r in fake.requests)  # nothing was attempted after it
        assert len(fake.requests) <= 2
    assert fake.state.issues == []


def test_a_read_only_token_is_refused_by_the_preflight(tmp_path: Path, fake: FakeGitLab):
    hb = gitlab_handbook(tmp_path / "hb", fake)
    fake.state.scopes = ["read_api"]
    result = secplan(fake, "apply", "--root", str(hb))
    assert result.returncode != 0
    assert "Error:" in result.stderr and "read_api, not `api`" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.state.issues == [] and fake.state.milestones == []
