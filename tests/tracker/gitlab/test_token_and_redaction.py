"""The token: where it comes from, and that it never appears in an error or a log line."""

from __future__ import annotations

import logging
import sys

import pytest
import requests

from secplan.errors import SecplanError, UsageError
from secplan.tracker.gitlab.redact import MASK, Redactor
from secplan.tracker.gitlab.token import resolve_token
from tests.tracker.gitlab.conftest import marker


def test_token_from_the_environment_first():
    assert resolve_token("false", env={"GITLAB_TOKEN": " glpat-env \n"}) == "glpat-env"


def test_token_from_token_command_stdout_stripped():
    cmd = f"{sys.executable} -c \"print('  glpat-cmd  ')\""
    assert resolve_token(cmd, env={}) == "glpat-cmd"


def test_no_token_anywhere_is_a_clear_usage_error():
    with pytest.raises(UsageError) as info:
        resolve_token(None, env={})
    assert "GITLAB_TOKEN" in str(info.value) and "token_command" in (info.value.hint or "")


def test_failing_token_command_does_not_show_its_output():
    cmd = f"{sys.executable} -c \"print('glpat-leaked'); raise SystemExit(3)\""
    with pytest.raises(UsageError) as info:
        resolve_token(cmd, env={})
    assert "exit code 3" in str(info.value)
    assert "glpat-leaked" not in str(info.value)


def test_token_command_printing_nothing_or_missing_program():
    with pytest.raises(UsageError, match="printed nothing"):
        resolve_token(f'{sys.executable} -c "pass"', env={})
    with pytest.raises(UsageError, match="could not run"):
        resolve_token("/nonexistent/secret-helper", env={})


def test_redactor_masks_the_token_and_credential_headers():
    r = Redactor("glpat-SECRET")
    text = (
        "glpat-SECRET failed; headers={'PRIVATE-TOKEN': 'other-value', "
        "'Authorization': 'Bearer abc.def'} url=https://h/api?private_token=xyz&a=1"
    )
    out = r.redact(text)
    for secret in ("glpat-SECRET", "other-value", "abc.def", "xyz"):
        assert secret not in out
    assert out.count(MASK) == 4 and "a=1" in out


def _all_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), str(getattr(exc, "hint", ""))]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        parts.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def test_token_never_in_errors_or_logs(make_tracker, gitlab_fake, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    token = gitlab_fake.token
    tracker = make_tracker(max_retries=1)
    errors: list[BaseException] = []

    # GitLab echoing the token in an error body
    gitlab_fake.fail("POST", r"issues$", 422, body={"message": f"bad token {token} in request"})
    # requests' own exception whose message carries the headers
    real = requests.Session.request

    def leaky(self, method, url, **kw):
        if "leak" in url:
            raise requests.ConnectionError(f"failed with headers {kw.get('headers')}")
        return real(self, method, url, **kw)

    monkeypatch.setattr(requests.Session, "request", leaky)
    for call in (
        lambda: tracker.create_issue("sec/planning", "x", marker("a", "1")),
        lambda: tracker.get_issue("leak/project#1"),
        lambda: make_tracker(token=token + "-wrong").list_issues("sec/planning"),
    ):
        with pytest.raises(SecplanError) as info:
            call()
        errors.append(info.value)
    assert len(errors) == 3
    for exc in errors:
        text = _all_text(exc)
        assert token not in text, text
    assert MASK in str(errors[0])
    logging.getLogger("urllib3.connectionpool").debug("sent PRIVATE-TOKEN: %s", token)
    assert caplog.records, "the requests above log something"
    assert token not in caplog.text
    assert token not in "\n".join(r.getMessage() for r in caplog.records)
