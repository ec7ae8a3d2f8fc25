"""schemathesis against our own OpenAPI document: generated requests for every documented
operation (paths, query parameters, bodies) never get a server error (5xx but 503) and
always get the documented JSON error shape or a documented response."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from bookkeeping.scratch import scratch_database
from tests.webui.conftest import make_app, populate

EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzzed_app() -> Flask:
    with scratch_database("sqlite", None) as database:
        populate(database.url, files=60)
        application = make_app(database.url)
        yield application
        application.extensions["bookkeeping"].engine.dispose()


def test_no_documented_operation_answers_a_server_error(fuzzed_app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            status = response.status_code
            assert status < 500 or status == 503, (
                case.method, case.formatted_path, status, response.text[:500]
            )  # fmt: skip
            if status >= 400 and response.headers.get("Content-Type", "").startswith(
                "application/json"
            ):
                body = response.json()
                assert {"status", "message", "details"} <= set(body), body

        check()
