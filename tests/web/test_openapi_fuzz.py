"""schemathesis over the OpenAPI spec (against the ASGI app): no input makes a server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from secplan.web.security import Auth
from tests.web.conftest import csrf

#: Examples per operation: enough to find a crash on every route, small enough for 2 cores.
EXAMPLES = 20


def test_no_input_makes_a_server_error(handbook: Path) -> None:
    from fastapi.testclient import TestClient

    from secplan.web.app import create_app

    app = create_app(handbook, auth=Auth(), scan_interval=0.0, hosts=["testserver"])
    with TestClient(app, base_url="http://127.0.0.1") as c:
        token = csrf(c)  # a real cookie/token pair, so fuzzed POSTs reach the handlers
        cookie = c.cookies.get("secplan_csrf")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case) -> None:
            if isinstance(case.body, dict) and "csrf_token" in case.body and len(seen) % 2:
                case.body["csrf_token"] = token
            seen.append(f"{case.method} {case.path}")
            case.call_and_validate(checks=[not_a_server_error], cookies={"secplan_csrf": cookie})

        run()
    assert any(s.startswith("POST") for s in seen)
