"""POST /api/v1/jobs: token authentication, XML and JSON reports, validation errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.generator import generate_reports
from bookkeeping.writer.serialise import report_to_json, report_to_xml
from tests.webui.conftest import make_app
from webui.tokens import create_token, revoke_tokens, user_for_token


@pytest.fixture
def writable(engine) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    """An empty bookkeeping on each back-end, a user ``producer`` and a token for it."""
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="producer"))
    token = create_token(engine, "producer")
    app = make_app(engine.url.render_as_string(hide_password=False))
    yield app, token
    app.extensions["bookkeeping"].engine.dispose()


@pytest.fixture(scope="module")
def shared_token(app: Flask) -> str:
    """A token on the shared read-only database, for requests refused before any write."""
    engine = app.extensions["bookkeeping"].engine
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="refused-producer"))
    return create_token(engine, "refused-producer")


def _reports(count: int = 3) -> list:
    return list(generate_reports(count, seed=5))


def _post(client: FlaskClient, body: str, token: str | None, mimetype: str) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/jobs", data=body, headers=headers, content_type=mimetype)


def test_xml_report_is_recorded_and_then_browsable(writable: tuple[Flask, str]) -> None:
    app, token = writable
    client = app.test_client()
    report = _reports()[0]
    response = _post(client, report_to_xml(report), token, "application/xml")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["status"] == "recorded" and answer["recorded_by"] == "producer"
    assert answer["files"] == len(report.output_files)
    lfn = report.output_files[0].lfn
    found = client.get("/api/v1/search", query_string={"q": f"lfn:{lfn}"}).get_json()
    assert [item["lfn"] for item in found["files"]] == [lfn]


def test_json_report_is_recorded_once(writable: tuple[Flask, str]) -> None:
    app, token = writable
    client = app.test_client()
    body = report_to_json(_reports()[0])
    assert _post(client, body, token, "application/json").status_code == 201
    again = _post(client, body, token, "application/json")
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"


def test_invalid_report_answers_every_problem_and_records_nothing(
    writable: tuple[Flask, str],
) -> None:
    app, token = writable
    client = app.test_client()
    document = json.loads(report_to_json(_reports()[0]))
    document["OutputFiles"][0]["Parameters"]["Size"] = "huge"
    document["OutputFiles"][0]["Parameters"]["EventStat"] = "lots"
    response = _post(client, json.dumps(document), token, "application/json")
    assert response.status_code == 422
    error = response.get_json()
    assert set(error) == {"status", "message", "details"}
    assert len(error["details"]["problems"]) >= 2
    assert "Size" in error["message"]
    assert client.get("/api/v1/browse").get_json()["values"] == []


def test_report_with_unknown_input_is_a_conflict(writable: tuple[Flask, str]) -> None:
    app, token = writable
    report = replace(_reports()[0], input_files=("/lhcb/never/recorded.dst",))
    response = _post(app.test_client(), report_to_json(report), token, "application/json")
    assert response.status_code == 409
    assert response.get_json()["details"]["code"] == 80


def test_malformed_xml_is_a_validation_error(client: FlaskClient, shared_token: str) -> None:
    response = _post(client, "<Job><oops></Job>", shared_token, "application/xml")
    assert response.status_code == 422
    assert response.get_json()["status"] == 422


@pytest.mark.parametrize("token", [None, "bk_not-a-real-token", "plainwrong"])
def test_missing_or_unknown_token_is_refused(client: FlaskClient, token: str) -> None:
    response = _post(client, report_to_json(_reports()[0]), token, "application/json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["status"] == 401


def test_other_content_types_are_refused(client: FlaskClient, shared_token: str) -> None:
    response = _post(client, "job", shared_token, "text/plain")
    assert response.status_code == 415


def test_tokens_are_stored_hashed_and_revocable(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="producer"))
    token = create_token(engine, "producer")
    assert user_for_token(engine, token) == "producer"
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_sha256 FROM webui_api_tokens").scalar()
    assert stored != token and token not in str(stored)
    assert revoke_tokens(engine, "producer") == 1
    assert user_for_token(engine, token) is None
