"""The recall API's answers to bad input, in process (werkzeug's test client on the WSGI
app): each named, with the one JSON error shape, nothing changed."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.test import Client

from bookkeeping.datahandling.config import DataHandlingConfig, RecallCaller
from bookkeeping.datahandling.server import RecallApp
from bookkeeping.datahandling.service import DataHandling
from bookkeeping.datahandling.tables import recall_requests
from tests.datahandling.conftest import World

SERVICE = RecallCaller("webui", "service-token-0123456789", on_behalf=True)
ALICE = RecallCaller("alice", "alice-token-0123456789")
BOB = RecallCaller("bob", "bob-token-0123456789abc")


def _client(world: World, clients: tuple[RecallCaller, ...] = (SERVICE, ALICE, BOB)) -> Client:
    handling = DataHandling(
        world.engine, world.bookkeeping, world.writer, world.elements, DataHandlingConfig()
    )
    return Client(RecallApp(handling.requests(), world.registry, clients=clients))


def _as(caller: RecallCaller) -> dict[str, str]:
    return {"Authorization": f"Bearer {caller.token}"}


def _count_requests(world: World) -> int:
    with world.engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(recall_requests))
        return int(count.scalar() or 0)


def test_bad_input_is_named_with_one_error_shape_and_changes_nothing(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(1, se="OFFLINE")
    client = _client(world)
    cases = [
        ("POST", "/requests", b"{not json", 400, "not JSON"),
        ("POST", "/requests", b"[1, 2]", 400, "JSON object"),
        ("POST", "/requests", b'{"owner": "a", "files": "/x", "areas": ["f0a"]}', 400, "files"),
        ("POST", "/requests", b'{"owner": "a", "files": ["/x"], "areas": []}', 400, "areas"),
        ("POST", "/requests", b'{"owner": "", "files": ["/x"], "areas": ["f0a"]}', 400, "owner"),
        ("POST", "/requests",
         b'{"owner": "a", "files": ["/x"], "areas": ["f0a"], "lease": "1h"}', 400, "lease"),
        ("GET", "/requests", b"", 405, "use POST"),
        ("GET", "/requests/42", b"", 404, "no recall request 42"),
        ("PUT", "/requests/42", b"", 404, "no recall request 42"),
        ("GET", "/nowhere", b"", 404, "no such resource"),
    ]  # fmt: skip
    for method, path, body, status, words in cases:
        answer = client.open(path, method=method, data=body, headers=_as(SERVICE))
        assert answer.status_code == status, (method, path, body)
        error = answer.get_json()["error"]
        assert set(error) == {"code", "kind", "message"} and words in error["message"]
    with world.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(recall_requests)).scalar()
            == 0
        )
    good = client.post(
        "/requests", json={"owner": "a", "files": lfns, "areas": ["f0a"]}, headers=_as(SERVICE)
    )
    assert good.status_code == 201 and good.get_json()["counts"]["waiting"] == 1
    request_id = good.get_json()["request"]
    renew = client.post(f"/requests/{request_id}/renew", json={"lease": 0}, headers=_as(SERVICE))
    assert renew.status_code == 400
    assert client.delete(f"/requests/{request_id}", headers=_as(SERVICE)).get_json() == {
        "request": request_id,
        "released": 0,
    }
    assert [a["name"] for a in client.get("/areas").get_json()] == ["f0a"]


def test_writes_need_a_configured_clients_token_and_the_owner_is_the_client(
    world: World,
) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(2, se="OFFLINE")
    client = _client(world)
    body = {"files": lfns, "areas": ["f0a"]}
    refusals = [
        ({}, 401, "Authorization: Bearer"),
        ({"Authorization": "Basic YTpi"}, 401, "Authorization: Bearer"),
        ({"Authorization": "Bearer wrong-token-0123456789"}, 401, "not one of a configured"),
    ]
    for headers, status, words in refusals:
        answer = client.post("/requests", json=body, headers=headers)
        assert answer.status_code == status
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert words in answer.get_json()["error"]["message"]
    # A client that is not a service may not name another owner...
    forged = client.post("/requests", json={**body, "owner": "bob"}, headers=_as(ALICE))
    assert (
        forged.status_code == 403
        and "not on behalf of 'bob'" in forged.get_json()["error"]["message"]
    )
    # ...a service must name one.
    unnamed = client.post("/requests", json=body, headers=_as(SERVICE))
    assert unnamed.status_code == 400 and "name the owner" in unnamed.get_json()["error"]["message"]
    assert _count_requests(world) == 0  # nothing refused was taken
    mine = client.post("/requests", json=body, headers=_as(ALICE))
    assert mine.status_code == 201 and mine.get_json()["owner"] == "alice"
    request_id = mine.get_json()["request"]
    # Bob may neither read, renew nor release Alice's request; she and the service may.
    for method, path in [("GET", ""), ("POST", "/renew"), ("DELETE", "")]:
        other = client.open(f"/requests/{request_id}{path}", method=method, headers=_as(BOB))
        assert other.status_code == 403, (method, path)
        assert "is not yours (bob)" in other.get_json()["error"]["message"]
        assert client.open(f"/requests/{request_id}", headers=_as(ALICE)).status_code == 200
    assert client.get(f"/requests/{request_id}", headers=_as(SERVICE)).status_code == 200
    for_someone = client.post("/requests", json={**body, "owner": "carol"}, headers=_as(SERVICE))
    assert for_someone.status_code == 201 and for_someone.get_json()["owner"] == "carol"
    assert _count_requests(world) == 2
    # The areas and the health need no token.
    assert client.get("/areas").status_code == 200
    assert client.get("/health").status_code == 200


def test_a_daemon_with_no_clients_configured_takes_no_requests(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(1, se="OFFLINE")
    client = _client(world, clients=())
    answer = client.post(
        "/requests", json={"owner": "a", "files": lfns, "areas": ["f0a"]}, headers=_as(SERVICE)
    )
    assert answer.status_code == 401
    assert "no clients configured" in answer.get_json()["error"]["message"]
    assert _count_requests(world) == 0
