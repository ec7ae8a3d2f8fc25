"""POST /api/v1/files/visibility and /api/v1/files/replicas: token authentication, changes
made through the configured writer (the catalogue, views included), errors with their
status and code, nothing changed by a refused request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Replica
from tests.webui.conftest import make_app
from webui.tokens import create_token


@pytest.fixture
def recorded(engine) -> Iterator[tuple[Flask, str, list[str]]]:  # type: ignore[no-untyped-def]
    """A catalogue bookkeeping of a few generated files on each back-end, the application
    writing to it and a token of user ``operator``."""
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="root"))
        connection.execute(users.insert().values(name="operator"))
    CatalogueWriter(engine).record_batch(list(generate_reports(16, seed=3)))
    # Visible files first (the generator hides intermediate steps' files, as LHCb does).
    records = CatalogueBookkeeping(engine).files(DatasetPath()).files
    lfns = [r.lfn for r in sorted(records, key=lambda r: not r.visible)]
    assert sum(r.visible for r in records) >= 4
    app = make_app(
        engine.url.render_as_string(hide_password=False), BOOKKEEPING_BACKEND="catalogue"
    )
    yield app, create_token(engine, "operator"), lfns
    app.extensions["bookkeeping"].engine.dispose()


def _post(client: FlaskClient, path: str, body: Any, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/files/{path}", json=body, headers=headers)


def _views_agree(app: Flask) -> None:
    session = Catalogue(app.extensions["bookkeeping"].engine).session("root")
    try:
        assert check(session) == []
    finally:
        session.close()


def test_visibility(recorded: tuple[Flask, str, list[str]]) -> None:
    app, token, lfns = recorded
    client = app.test_client()
    response = _post(client, "visibility", {"lfns": lfns[:3], "visible": False}, token)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"changed": 3, "files": 3, "changed_by": "operator"}
    again = _post(client, "visibility", {"lfns": lfns[:3], "visible": False}, token)
    assert again.get_json()["changed"] == 0
    reader = app.extensions["bookkeeping"].reader
    assert [reader.file_by_lfn(lfn).visible for lfn in lfns[:4]] == [False] * 3 + [True]
    _views_agree(app)


def test_replicas(recorded: tuple[Flask, str, list[str]]) -> None:
    app, token, lfns = recorded
    client = app.test_client()
    copy = {"site": "NEW-SITE", "storage_class": "disk", "lfns": lfns[:2]}
    added = _post(client, "replicas", {**copy, "action": "add", "pfn": "srm://n/x"}, token)
    assert added.status_code == 200 and added.get_json()["changed"] == 2, added.get_json()
    changed = _post(client, "replicas", {**copy, "action": "change", "status": "lost"}, token)
    assert changed.get_json()["changed"] == 2, changed.get_json()
    reader = app.extensions["bookkeeping"].reader
    record = reader.file_by_lfn(lfns[0])
    assert Replica("NEW-SITE", "disk", "", "lost", "srm://n/x") in reader.replicas(record.file_id)
    removed = _post(client, "replicas", {**copy, "action": "remove"}, token)
    assert removed.get_json()["changed"] == 2, removed.get_json()
    assert all(r.site != "NEW-SITE" for r in reader.replicas(record.file_id))
    _views_agree(app)


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("visibility", {"lfns": ["/lhcb/no/such.dst"], "visible": False}, 404, "UnknownFile"),
        ("visibility", {"lfns": ["not an lfn"], "visible": False}, 422, "ValidationError"),
        ("visibility", {"lfns": "/lhcb/x.dst", "visible": False}, 422, None),
        ("visibility", {"lfns": [1], "visible": False}, 422, None),
        ("visibility", {"lfns": []}, 422, None),
        ("visibility", {"lfns": [], "visible": "no"}, 422, None),
        ("visibility", ["not", "an", "object"], 400, None),
        (
            "replicas",
            {"action": "drop", "lfns": [], "site": "X", "storage_class": "disk"},
            422,
            None,
        ),
        ("replicas", {"action": "add", "lfns": [], "storage_class": "disk"}, 422, None),
        (
            "replicas",
            {"action": "remove", "lfns": ["FIRST"], "site": "NOWHERE", "storage_class": "tape"},
            404,
            "UnknownReplica",
        ),
        (
            "replicas",
            {"action": "add", "lfns": ["FIRST"], "site": "A B", "storage_class": "disk"},
            422,
            "ValidationError",
        ),
    ],
)
def test_refused_requests_change_nothing(
    recorded: tuple[Flask, str, list[str]],
    path: str,
    body: Any,
    status: int,
    error: str | None,
) -> None:
    app, token, lfns = recorded
    if isinstance(body, dict) and body.get("lfns") == ["FIRST"]:
        body = {**body, "lfns": lfns[:1]}
    reader = app.extensions["bookkeeping"].reader
    ids = [record.file_id for record in reader.files(DatasetPath()).files]
    before = reader.files(DatasetPath()), [reader.replicas(i) for i in ids]
    response = _post(app.test_client(), path, body, token)
    assert response.status_code == status, response.get_json()
    if error is not None:
        assert response.get_json()["details"]["error"] == error
    assert (reader.files(DatasetPath()), [reader.replicas(i) for i in ids]) == before
    _views_agree(app)


def test_a_token_is_needed(recorded: tuple[Flask, str, list[str]]) -> None:
    app, _, lfns = recorded
    client = app.test_client()
    for token in (None, "forged"):
        response = _post(client, "visibility", {"lfns": lfns[:1], "visible": False}, token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    text = client.post(
        "/api/v1/files/visibility",
        data="lfns=x",
        headers={"Authorization": "Bearer forged"},
        content_type="text/plain",
    )
    assert text.status_code == 401  # who asks is settled before what is asked
    assert app.extensions["bookkeeping"].reader.file_by_lfn(lfns[0]).visible
