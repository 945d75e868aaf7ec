"""``secplan check`` run for real: exit codes, PATH forms, --fix, review threads, corpora."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from secplan.handbook.cache import RACY_NS
from tests.conftest import EXAMPLE_HANDBOOK, FIXTURES, PROJECT, run_cli

LINT_HANDBOOK = FIXTURES / "lint" / "handbook"

CLEAN_PLAN = """\
---
title: Clean plan
status: draft
milestones:
  - title: Pilot
    due: 2027-02-01
---

# Clean plan

## Work

- [ ] Issue runner credentials from Vault %Pilot
  Configure the JWT auth method and a role per protected branch so that every job gets a
  credential that expires within a day.
"""


@pytest.fixture
def lint_handbook(tmp_path: Path) -> Path:
    copy = tmp_path / "handbook"
    shutil.copytree(LINT_HANDBOOK, copy)
    return copy


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """A handbook whose one plan passes every rule, with an up-to-date catalog."""
    root = tmp_path / "clean"
    root.mkdir()
    (root / "index.md").write_text(
        "# Plans\n\n<!-- secplan:catalog -->\n<!-- /secplan:catalog -->\n\nFooter stays.\n"
    )
    (root / "clean.md").write_text(CLEAN_PLAN)
    assert run_cli("catalog", "--write", "--root", str(root)).returncode == 0
    return root


def findings(result: object) -> list[dict[str, object]]:
    return json.loads(result.stdout)  # type: ignore[attr-defined]


# --- exit codes -----------------------------------------------------------------------------


def test_clean_handbook_exits_zero(clean: Path) -> None:
    result = run_cli("check", cwd=clean)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "All checks passed! (1 plan checked)\n"


def test_warnings_alone_exit_zero_and_require_ready_makes_them_errors(clean: Path) -> None:
    plan = clean / "clean.md"
    plan.write_text(CLEAN_PLAN.replace("## Work\n", "## Work\n\nOwner: TBD\n"))
    result = run_cli("check", cwd=clean)
    assert result.returncode == 0
    assert "clean.md:13:8: SP306 " in result.stdout
    assert "(1 warning)" in result.stdout
    strict = run_cli("check", "--require", "ready", "--format", "json", cwd=clean)
    assert strict.returncode == 1
    assert {(f["code"], f["severity"]) for f in findings(strict)} == {
        ("SP306", "error"),
        ("SP401", "error"),
    }


def test_errors_exit_one_unless_exit_zero(lint_handbook: Path) -> None:
    assert run_cli("check", cwd=lint_handbook).returncode == 1
    assert run_cli("check", "--exit-zero", cwd=lint_handbook).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--select", "SP999"), "no rule matches 'SP999'"),
        (("--format", "xml"), "Invalid value"),
        (("no-such-plan",), "no file, folder or plan named 'no-such-plan'"),
        (("--root", "no-such-dir"), "is not a directory"),
    ],
)
def test_usage_errors_exit_two(clean: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("check", *args, cwd=clean)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_config_exits_two(clean: Path) -> None:
    (clean / "secplan.toml").write_text('detail_words = "many"\n')
    result = run_cli("check", cwd=clean)
    assert result.returncode == 2
    assert "detail_words" in result.stderr and "Traceback" not in result.stderr


def test_config_severity_and_ignore_apply(lint_handbook: Path) -> None:
    (lint_handbook / "secplan.toml").write_text(
        'ignore = ["SP2", "SP100"]\n[severity]\nSP304 = "error"\nSP105 = "off"\n'
    )
    data = findings(run_cli("check", "--format", "json", cwd=lint_handbook))
    got = {f["code"] for f in data}
    assert not got & {"SP201", "SP202", "SP203", "SP100", "SP105"}
    assert {f["severity"] for f in data if f["code"] == "SP304"} == {"error"}


# --- PATH forms -----------------------------------------------------------------------------


def test_handbook_folder_from_the_project_root() -> None:
    result = run_cli("check", "examples/handbook", cwd=PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if ": SP" in line]
    assert lines and all(line.startswith("examples/handbook/") for line in lines)


@pytest.mark.parametrize("fmt", ["json", "gitlab", "sarif"])
def test_example_handbook_machine_formats(fmt: str) -> None:
    result = run_cli("check", str(EXAMPLE_HANDBOOK), "--format", fmt, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)


def test_paths_files_ids_and_folders_limit_the_check(lint_handbook: Path) -> None:
    def plans(*args: str) -> set[str]:
        data = findings(run_cli("check", "--format", "json", *args, cwd=lint_handbook))
        return {str(f["plan"] or f["path"]) for f in data}

    assert plans("gappy.md") == {"gappy"}
    assert plans("old", "untitled") == {"old", "untitled"}
    assert plans("live") == {"live"}
    assert plans("--root", str(lint_handbook), str(lint_handbook / "empty.md")) == {"empty"}


def test_plan_id_of_a_folder_plan_with_root_elsewhere() -> None:
    # admin-mfa is admin-mfa/index.md; the working directory is not the handbook.
    result = run_cli("check", "admin-mfa", "--root", "examples/handbook", cwd=PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("(1 plan checked)\n") or " in 1 plan." in result.stdout


def test_plan_ids_resolve_every_layout_the_loader_knows(tmp_path: Path) -> None:
    root = tmp_path / "hb"
    gappy = CLEAN_PLAN.replace("  Configure", "x\n\nConfigure")  # too little detail: SP304
    for rel in ("flat.md", "folder/index.md", "site/index.html.md", "page.html.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(gappy)
    (root / "index.md").write_text("# Plans\n")

    def plans(*ids: str) -> set[str]:
        args = ("check", "--root", "hb", "--format", "json", "--select", "SP304", *ids)
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return {str(f["plan"]) for f in findings(result)}

    assert plans("flat") == {"flat"}
    assert plans("folder", "site/") == {"folder", "site"}
    assert plans("page") == {"page"}
    missing = run_cli("check", "--root", "hb", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "no file, folder or plan named 'nope'" in missing.stderr


def test_checking_one_file_still_knows_the_other_plans(lint_handbook: Path) -> None:
    (lint_handbook / "linker.md").write_text(
        CLEAN_PLAN.replace("## Work\n", "## Work\n\nSee [ready](./ready-plan) and [x](./nope).\n")
    )
    data = findings(run_cli("check", "linker.md", "--format", "json", cwd=lint_handbook))
    assert [(f["code"], f["message"].split("`")[1]) for f in data] == [("SP203", "./nope")]


def test_subset_never_reports_the_catalog(clean: Path) -> None:
    (clean / "second.md").write_text(CLEAN_PLAN.replace("Clean plan", "Second plan"))
    assert "SP001" in run_cli("check", cwd=clean).stdout
    assert "SP001" not in run_cli("check", "second.md", cwd=clean).stdout


# --- suppression, --fix ---------------------------------------------------------------------


def test_suppression_comment(clean: Path) -> None:
    plan = clean / "clean.md"
    plan.write_text(CLEAN_PLAN.replace("## Work\n", "## Work\n\nOwner: TBD\nETA: TBD\n"))
    assert run_cli("check", "--select", "SP306", cwd=clean).stdout.count("SP306") == 2
    plan.write_text(
        CLEAN_PLAN.replace(
            "## Work\n", "## Work\n\nOwner: TBD\n\n<!-- secplan: ignore SP306 -->\nETA: TBD\n"
        )
    )
    out = run_cli("check", "--select", "SP306", cwd=clean).stdout
    assert out.count("SP306") == 1 and "clean.md:13:" in out


def test_fix_rewrites_only_the_catalog_table(clean: Path) -> None:
    (clean / "second.md").write_text(CLEAN_PLAN.replace("Clean plan", "Second plan"))
    index = clean / "index.md"
    before = index.read_text()
    stale = run_cli("check", cwd=clean)
    assert stale.returncode == 1
    assert "index.md:3:1: SP001 [*] catalog table is out of date" in stale.stdout
    assert "[*] 1 fixable with the `--fix` option." in stale.stdout
    plan_text = (clean / "second.md").read_bytes()

    fixed = run_cli("check", "--fix", cwd=clean)
    assert fixed.returncode == 0, fixed.stdout
    assert fixed.stdout == "Fixed 1 problem. (2 plans checked)\n"
    after = index.read_text()
    assert "[Second plan](./second)" in after
    assert after.startswith("# Plans\n\n<!-- secplan:catalog -->\n")
    assert after.endswith("<!-- /secplan:catalog -->\n\nFooter stays.\n")
    assert before.splitlines()[-3:] == after.splitlines()[-3:]
    assert (clean / "second.md").read_bytes() == plan_text
    assert run_cli("check", cwd=clean).returncode == 0


# --- review threads (SP501) -----------------------------------------------------------------


def _ready(root: Path) -> None:
    (root / "clean.md").write_text(
        CLEAN_PLAN.replace("status: draft", "status: ready\nepic: security&3")
    )
    run_cli("catalog", "--write", "--root", str(root))


def test_check_never_creates_a_database(clean: Path, tmp_path: Path) -> None:
    _ready(clean)
    assert run_cli("check", cwd=clean).returncode == 0
    assert not (clean / ".secplan" / "secplan.db").exists()
    absent = tmp_path / "absent.db"
    result = run_cli("check", "--database-url", f"sqlite:///{absent}", cwd=clean)
    assert result.returncode == 0 and not absent.exists()


def test_unresolved_review_threads_from_the_store(clean: Path) -> None:
    from secplan.store import open_store
    from secplan.store.reviews import create_thread, resolve_thread

    _ready(clean)
    with open_store(clean) as store, store.session() as session:
        thread = create_thread(session, "clean", "work", "Work", "ana", "Which Vault cluster?")
    # The store has no epic security&3 (SP404, tests/lint/test_unknown_epic.py): not judged here.
    result = run_cli("check", "--format", "json", "--ignore", "SP404", cwd=clean)
    assert result.returncode == 1
    assert [(f["code"], f["severity"], f["plan"]) for f in findings(result)] == [
        ("SP501", "error", "clean")
    ]
    with open_store(clean) as store, store.session() as session:
        resolve_thread(session, thread.id, "ana")
    assert run_cli("check", "--ignore", "SP404", cwd=clean).returncode == 0


@pytest.mark.postgres
def test_review_threads_from_a_database_url(clean: Path, database_url: str) -> None:
    from secplan.store import open_store
    from secplan.store.reviews import create_thread

    _ready(clean)
    with open_store(clean, database_url) as store, store.session() as session:
        create_thread(session, "clean", "work", "Work", "ana", "Which Vault cluster?")
        create_thread(session, "other", "work", "Work", "ana", "Not this plan.")
    result = run_cli(
        "check",
        "--format",
        "json",
        "--ignore",
        "SP404",  # no epic security&3 in this store: not what is judged here
        env={"SECPLAN_DATABASE_URL": database_url},
        cwd=clean,
    )
    assert [(f["code"], f["message"]) for f in findings(result)] == [
        ("SP501", "1 unresolved review thread (see `secplan serve`)")
    ]
    assert not (clean / ".secplan" / "secplan.db").exists()


# --- robustness -----------------------------------------------------------------------------


def test_unreadable_files_do_not_stop_the_others(lint_handbook: Path) -> None:
    (lint_handbook / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    data = findings(run_cli("check", "--format", "json", cwd=lint_handbook))
    by_path = {f["path"]: f["code"] for f in data if f["code"] == "SP100"}
    assert set(by_path) == {"binary.md", "latin1.md"}
    assert {"gappy", "untitled", "old"} <= {f["plan"] for f in data}


@pytest.mark.corpora
def test_check_never_crashes_on_the_corpora(corpora: Path) -> None:
    result = run_cli(
        "check",
        "--root",
        str(corpora),
        "--format",
        "json",
        "--exit-zero",
        env={"SECPLAN_NO_CACHE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = findings(result)
    assert data and not [f for f in data if f["code"] == "SP900"]


def test_symlink_leaving_the_root_is_reported_under_its_own_name(
    lint_handbook: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(CLEAN_PLAN)
    (lint_handbook / "escape.md").symlink_to(outside)
    data = findings(run_cli("check", "--select", "SP100", "--format", "json", cwd=lint_handbook))
    assert [(f["path"], f["code"]) for f in data] == [
        ("binary.md", "SP100"),
        ("escape.md", "SP100"),
    ]


# --- the check snapshot ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_check_after_one_edit_answers_from_the_snapshot_as_a_cold_check_would(
    tmp_path: Path, fmt: str
) -> None:
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    # A handbook checked before: its cache folder exists, and no folder changed within the
    # racy window (such a folder is listed again, and the snapshot not used).
    (root / ".secplan" / "cache").mkdir(parents=True)
    time.sleep(RACY_NS / 1e9 + 0.1)
    args = ("check", "--format", fmt, "--exit-zero")
    first = run_cli(*args, cwd=root)
    assert first.returncode == 0, first.stderr
    cache = root / ".secplan" / "cache"
    assert (cache / "check.sqlite3").is_file()
    findings_cache = (cache / "findings.sqlite3").stat().st_mtime_ns

    plan = root / "ci-runner-secrets-rotation.md"
    plan.write_text(plan.read_text() + "\nTODO: decide who rotates the runner tokens.\n")
    warm = run_cli(*args, cwd=root)
    # Answered from the snapshot: the findings cache was neither needed nor written.
    assert (cache / "findings.sqlite3").stat().st_mtime_ns == findings_cache
    cold = run_cli(*args, cwd=root, env={"SECPLAN_NO_CACHE": "1"})
    assert warm.returncode == cold.returncode == 0, warm.stderr + cold.stderr
    assert warm.stdout == cold.stdout
    assert warm.stdout != first.stdout
