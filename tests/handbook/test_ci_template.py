"""The ``.gitlab-ci.yml`` of ``secplan init --ci``: valid for GitLab as far as a schema can tell,
every secplan command in it real, and the copy in docs/gitlab.md the same text."""

from __future__ import annotations

import importlib.resources
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from secplan.cli.main import COMMANDS
from secplan.handbook.bootstrap import ci_template
from tests.conftest import FIXTURES, PROJECT, run_cli
from tests.test_readme_walkthrough import secplan_bin  # noqa: F401  (the fixture)

SCHEMA = json.loads((FIXTURES / "schemas" / "gitlab-ci-subset.schema.json").read_text())


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(data)]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("hb")
    done = run_cli(
        "init", str(root), "--ci", "--backend", "gitlab", "--gitlab-url", "https://g.example"
    )
    assert done.returncode == 0, done.stderr
    return (root / ".gitlab-ci.yml").read_text(encoding="utf-8")


def _jobs(ci: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reserved = {"workflow", "stages", "variables", "default", "include"}
    return {k: v for k, v in ci.items() if k not in reserved and not k.startswith(".")}


def test_init_writes_the_template(written: str) -> None:
    assert written == ci_template()


def test_the_template_passes_the_ci_schema(written: str) -> None:
    ci = yaml.safe_load(written)
    assert _errors(SCHEMA, ci) == []
    jobs = _jobs(ci)
    assert set(jobs) == {"check", "plan", "apply", "pages"}
    assert all(job["stage"] in ci["stages"] for job in jobs.values())


def test_the_ci_schema_can_fail(written: str) -> None:
    ci = yaml.safe_load(written)
    for path, value in (
        (("apply", "resource_groups"), "x"),  # a misspelt keyword
        (("check", "artifacts", "reports", "code_quality"), "r.json"),
        (("plan", "rules"), [{"if": "$X", "when": "sometimes"}]),
        (("pages", "artifacts", "paths"), []),
    ):
        broken = json.loads(json.dumps(ci))
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert _errors(SCHEMA, broken), path
    assert _errors(SCHEMA, {**ci, "orphan": {"stage": "check"}})  # a job without script


def test_the_jobs_do_what_the_issue_asks(written: str) -> None:
    jobs = _jobs(yaml.safe_load(written))
    check = " ".join(jobs["check"]["script"])
    report = jobs["check"]["artifacts"]["reports"]["codequality"]
    assert f"secplan check --format gitlab > {report}" in check
    assert jobs["check"]["artifacts"]["when"] == "always"  # the report also when check fails
    assert jobs["plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert "secplan plan --mr-note" in jobs["plan"]["script"]
    assert jobs["apply"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert jobs["apply"]["resource_group"]
    assert "secplan apply --write-back" in jobs["apply"]["script"]
    assert jobs["pages"]["artifacts"]["paths"] == ["public"]
    assert "GITLAB_TOKEN" in written and "masked" in written
    assert "glpat" not in written  # no token in the file


def test_every_secplan_command_in_it_exists(written: str) -> None:
    lines = re.findall(r"^\s*- (secplan [^|\n]+?)(?: >| \|\||$)", written, flags=re.M)
    assert len(lines) == 4
    for line in lines:
        _program, command, *args = shlex.split(line)
        assert command in COMMANDS, line
        helped = run_cli(command, "--help")
        for option in (a for a in args if a.startswith("--")):
            assert option in helped.stdout, (line, option)


def test_docs_show_the_same_template() -> None:
    docs = (PROJECT / "docs" / "gitlab.md").read_text(encoding="utf-8")
    block = docs.split("<!-- secplan:ci-template -->\n", 1)[1].split(
        "<!-- /secplan:ci-template", 1
    )[0]
    assert (
        block.strip().removeprefix("```yaml").removesuffix("```").strip() == ci_template().strip()
    )


def test_the_template_against_gitlabs_ci_schema(written: str) -> None:
    # GitLab's editor schema (app/assets/javascripts/editor/schema/ci.json, MIT), as the
    # check-jsonschema package vendors it.
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "gitlab-ci.json").read_text(encoding="utf-8"))
    ci = yaml.safe_load(written)
    assert _errors(schema, ci) == []
    assert _errors(schema, {**ci, "apply": {**ci["apply"], "resource_groups": "x"}})


def test_a_local_backend_gets_a_note(tmp_path: Path) -> None:
    done = run_cli("init", str(tmp_path), "--ci")
    assert done.returncode == 0
    assert "Note: the CI jobs plan and apply need the tracker in GitLab" in done.stderr


def test_the_check_and_pages_jobs_run(
    tmp_path: Path,
    secplan_bin: dict[str, str],  # noqa: F811
) -> None:
    """Run the two jobs that need no GitLab, script line by script line, as a runner would
    (bash, in the checkout), and check what they leave behind."""
    root = tmp_path / "repo"
    assert run_cli("init", str(root), "--ci").returncode == 0
    jobs = _jobs(yaml.safe_load((root / ".gitlab-ci.yml").read_text()))
    env = {**secplan_bin, "CI_PAGES_URL": "https://sec.gitlab.example/handbook"}
    for name in ("check", "pages"):
        for line in jobs[name]["script"]:
            done = subprocess.run(
                ["bash", "-ec", line], cwd=root, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, (name, line, done.stdout, done.stderr)
    report = json.loads((root / jobs["check"]["artifacts"]["reports"]["codequality"]).read_text())
    codequality = json.loads((FIXTURES / "schemas" / "gitlab-codequality.schema.json").read_text())
    assert report and _errors(codequality, report) == []
    index = (root / jobs["pages"]["artifacts"]["paths"][0] / "index.html").read_text()
    assert "https://sec.gitlab.example/handbook/" in index  # links carry the Pages URL


def test_a_failing_check_job_fails_and_still_writes_the_report(
    tmp_path: Path,
    secplan_bin: dict[str, str],  # noqa: F811
) -> None:
    root = tmp_path / "repo"
    assert run_cli("init", str(root), "--ci").returncode == 0
    (root / "broken.md").write_text("---\ntitle: [unclosed\n---\n# Broken\n")
    (line,) = _jobs(yaml.safe_load((root / ".gitlab-ci.yml").read_text()))["check"]["script"]
    done = subprocess.run(
        ["bash", "-ec", line], cwd=root, env=secplan_bin, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "broken.md" in done.stdout  # the readable report is printed too
    report = json.loads((root / "gl-code-quality-report.json").read_text())
    assert any(issue["severity"] == "major" for issue in report)


def test_the_apply_job_commits_the_write_back_once(
    tmp_path: Path,
    secplan_bin: dict[str, str],  # noqa: F811
) -> None:
    """The apply script in a git checkout whose push URL git rewrites to a local bare
    repository: the first run pushes one commit with the written-back refs, the second none."""
    root, remote = tmp_path / "repo", tmp_path / "remote.git"
    assert run_cli("init", str(root), "--ci").returncode == 0

    def git(*args: str, cwd: Path = root) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
        return done.stdout

    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    git("init", "--quiet", "--initial-branch", "main")
    git("add", "--all")
    git("-c", "user.name=t", "-c", "user.email=t@example", "commit", "--quiet", "-m", "start")
    git("push", "--quiet", str(remote), "HEAD:main")
    env = {
        **secplan_bin,
        "GITLAB_TOKEN": "tok",
        "CI_SERVER_HOST": "gitlab.example",
        "CI_PROJECT_PATH": "sec/repo",
        "CI_COMMIT_BRANCH": "main",
        # the runner's view of the remote, served from the bare repository
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{remote.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://oauth2:tok@gitlab.example/sec/repo.git",
    }
    script = _jobs(yaml.safe_load((root / ".gitlab-ci.yml").read_text()))["apply"]["script"]
    for _run in range(2):
        for line in script:
            done = subprocess.run(
                ["bash", "-ec", line], cwd=root, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, (line, done.stdout, done.stderr)
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log == ["secplan: write back epic and issue references", "start"]
    plan = git("show", "main:example-plan.md", cwd=remote)
    assert re.search(r"security/planning#\d+", plan)  # the issue refs are in the pushed plan
