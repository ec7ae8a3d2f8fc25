"""The catalogue's write forms on every back-end: shown only where the engine says the user
may write; add and remove an attribute, delete an entry, create a sub-directory; each one
refused without the CSRF token, without a login and without the rights, changing nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webui.conftest import ALICE_PASSWORD, BOB_PASSWORD, ROOT_PASSWORD, csrf_of, login

PASSWORDS = {"alice": ALICE_PASSWORD, "bob": BOB_PASSWORD, "root": ROOT_PASSWORD}
FORMS = ("/catalogue/entry/add", "/catalogue/attribute/add", "/catalogue/attribute/remove",
         "/catalogue/directory/create")  # fmt: skip
_NAMES = itertools.count()


@pytest.fixture
def workspace(catalogue_server_app: Flask) -> str:
    """A directory of its own for each test: attributes Size (int) and Label, root's entry
    ``rootfile`` (alice may only read it) and alice's ``alicefile``; alice has ``rwx``,
    everybody else ``r-x`` (inherited from /)."""
    catalogue = catalogue_server_app.extensions["bookkeeping"].catalogue
    path = f"/w{next(_NAMES)}"
    root = catalogue.session("root")
    try:
        root.createdir(path)
        root.addattr(path, "Size", "int")
        root.addattr(path, "Label", "varchar(32)")
        root.addentry(f"{path}/rootfile", {"Size": 1, "Label": "root's"})
        root.acl_grant(path, "alice", "rwx")
    finally:
        root.close()
    alice = catalogue.session("alice")
    try:
        alice.addentry(f"{path}/alicefile", {"Size": 2, "Label": "alice's"})
    finally:
        alice.close()
    return path


def client_of(app: Flask, user: str | None) -> FlaskClient:
    client = app.test_client()
    if user is not None:
        assert login(client, user, PASSWORDS[user]).status_code == 302
    return client


def post(client: FlaskClient, url: str, csrf: bool = True, **fields: str) -> Any:
    if csrf:
        fields["csrf_token"] = csrf_of(client, "/catalogue/login")
    return client.post(url, data=fields)


def directory(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get("/api/v1/catalogue/", query_string={"path": path})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def state_of(app: Flask, path: str) -> dict[str, Any]:
    """Everything the forms could change in ``path``, as root sees it."""
    data = directory(client_of(app, "root"), path)
    return {key: data[key] for key in ("attributes", "entries", "subdirectories")}


def refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and words in page and "Nothing was changed." in page


# --- forms shown only where the user may write -------------------------------------------


def _forms_on(page: str) -> list[str]:
    return [url for url in FORMS if f'action="{url}"' in page]


def test_directory_forms_follow_the_engine_rights(catalogue_server_app: Flask,
                                                   workspace: str) -> None:  # fmt: skip
    for user, rights, forms in [
        (None, "r-x", []),
        ("bob", "r-x", []),
        ("alice", "rwx", list(FORMS)),
        ("root", "rwx", list(FORMS)),
    ]:
        client = client_of(catalogue_server_app, user)
        data = directory(client, workspace)
        assert data["rights"] == {"directory": rights, "entry": None, "write": rights == "rwx"}
        page = client.get("/catalogue/", query_string={"path": workspace}).get_data(as_text=True)
        assert _forms_on(page) == forms, user
        assert ('id="read-only"' in page) == (user == "bob"), user


@pytest.mark.parametrize(
    ("user", "entry", "rights", "editable"),
    [
        (None, "alicefile", "r--", False),  # anonymous: group rights of the entry
        ("bob", "alicefile", "r--", False),  # no w on the directory either
        ("alice", "rootfile", "r--", False),  # w on the directory, not on root's entry
        ("alice", "alicefile", "rw-", True),
        ("root", "rootfile", "rwx", True),
    ],
)
def test_entry_forms_follow_the_engine_rights(
    catalogue_server_app: Flask, workspace: str, user: str | None, entry: str, rights: str,
    editable: bool,
) -> None:  # fmt: skip
    client = client_of(catalogue_server_app, user)
    path = f"{workspace}/{entry}"
    data = client.get("/api/v1/catalogue/entry", query_string={"path": path}).get_json()
    assert data["rights"]["entry"] == rights and data["rights"]["write"] is editable
    page = client.get("/catalogue/entry", query_string={"path": path}).get_data(as_text=True)
    assert ('action="/catalogue/entry/edit"' in page) is editable
    assert ('action="/catalogue/entry/delete"' in page) is editable
    assert ('id="read-only"' in page) is (user is not None and not editable)


# --- add an attribute ----------------------------------------------------------------------


def test_add_attribute(catalogue_server_app: Flask, workspace: str) -> None:
    alice = client_of(catalogue_server_app, "alice")
    response = post(alice, "/catalogue/attribute/add", directory=workspace, name="Order",
                    type="double")  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"] == f"/catalogue/?path={workspace}"
    assert {"name": "Order", "type": "double"} in directory(alice, workspace)["attributes"]
    assert "Added the attribute Order (double)" in alice.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"name": "Energy", "type": "complex"}, 422, "unknown attribute type"),
        ({"name": "Size", "type": "int"}, 409, "attribute &#39;Size&#39; exists"),
        ({"name": "", "type": "int"}, 422, "an attribute name is needed"),
        ({"name": "Energy", "type": ""}, 422, "an attribute type is needed"),
        ({"name": "a:b", "type": "int"}, 422, "may not contain NUL, &#39;:&#39; or &#39;/&#39;"),
    ],
)
def test_add_attribute_errors_change_nothing(
    catalogue_server_app: Flask, workspace: str, fields: dict[str, str], status: int, words: str
) -> None:
    before = state_of(catalogue_server_app, workspace)
    alice = client_of(catalogue_server_app, "alice")
    refused(post(alice, "/catalogue/attribute/add", directory=workspace, **fields), status, words)
    assert state_of(catalogue_server_app, workspace) == before


# --- remove an attribute -------------------------------------------------------------------


def test_remove_attribute_needs_force_while_entries_have_values(
    catalogue_server_app: Flask, workspace: str
) -> None:
    alice = client_of(catalogue_server_app, "alice")
    before = state_of(catalogue_server_app, workspace)
    form = {"directory": workspace, "name": "Label"}
    refused(post(alice, "/catalogue/attribute/remove", **form), 409, "still has values")
    assert state_of(catalogue_server_app, workspace) == before
    refused(post(alice, "/catalogue/attribute/remove", directory=workspace, name="Nope"), 404,
            "has no attribute &#39;Nope&#39;")  # fmt: skip
    assert post(alice, "/catalogue/attribute/remove", **form, force="yes").status_code == 302
    names = [a["name"] for a in directory(alice, workspace)["attributes"]]
    assert names == ["Size"]


# --- delete an entry -----------------------------------------------------------------------


def test_delete_entry(catalogue_server_app: Flask, workspace: str) -> None:
    alice = client_of(catalogue_server_app, "alice")
    path = f"{workspace}/alicefile"
    response = post(alice, "/catalogue/entry/delete", path=path, confirm="yes")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/catalogue/?path={workspace}"
    gone = alice.get("/api/v1/catalogue/entry", query_string={"path": path})
    assert gone.status_code == 404
    assert [e["name"] for e in directory(alice, workspace)["entries"]] == ["rootfile"]


@pytest.mark.parametrize(
    ("entry", "confirm", "status", "words"),
    [
        ("rootfile", "yes", 403, "alice may not remove"),  # root's entry: r-- for alice
        ("*", "yes", 400, "is a pattern"),  # would remove every writable entry
        ("alicefile", "", 422, "tick the box to confirm"),
        ("nothing", "yes", 404, "no such entry"),
    ],
)
def test_delete_entry_errors_change_nothing(
    catalogue_server_app: Flask, workspace: str, entry: str, confirm: str, status: int,
    words: str,
) -> None:  # fmt: skip
    before = state_of(catalogue_server_app, workspace)
    alice = client_of(catalogue_server_app, "alice")
    response = post(alice, "/catalogue/entry/delete", path=f"{workspace}/{entry}",
                    confirm=confirm)  # fmt: skip
    refused(response, status, words)
    assert state_of(catalogue_server_app, workspace) == before


# --- create a sub-directory ----------------------------------------------------------------


def test_create_directory(catalogue_server_app: Flask, workspace: str) -> None:
    alice = client_of(catalogue_server_app, "alice")
    response = post(alice, "/catalogue/directory/create", directory=workspace, name="Group")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/catalogue/?path={workspace}/Group"
    assert directory(alice, workspace)["subdirectories"] == [f"{workspace}/Group"]
    assert directory(alice, f"{workspace}/Group")["rights"]["directory"] == "rwx"  # her own


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("rootfile", 409, "an entry named"),
        ("a*b", 422, "contains &#39;*&#39;"),
        ("..", 422, "invalid directory name"),
    ],
)
def test_create_directory_errors_change_nothing(
    catalogue_server_app: Flask, workspace: str, name: str, status: int, words: str
) -> None:
    before = state_of(catalogue_server_app, workspace)
    alice = client_of(catalogue_server_app, "alice")
    response = post(alice, "/catalogue/directory/create", directory=workspace, name=name)
    refused(response, status, words)
    assert state_of(catalogue_server_app, workspace) == before


# --- refused for everybody: no CSRF token, no login, no rights ------------------------------


def _valid_forms(workspace: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/catalogue/entry/add", {"directory": workspace, "name": "new", "attr:Size": "3"}),
        ("/catalogue/entry/edit", {"path": f"{workspace}/alicefile", "attr:Size": "5"}),
        ("/catalogue/entry/delete", {"path": f"{workspace}/alicefile", "confirm": "yes"}),
        ("/catalogue/attribute/add", {"directory": workspace, "name": "New", "type": "int"}),
        ("/catalogue/attribute/remove", {"directory": workspace, "name": "Label",
                                         "force": "yes"}),
        ("/catalogue/directory/create", {"directory": workspace, "name": "new"}),
    ]  # fmt: skip


def test_every_form_refuses_a_missing_or_forged_csrf_token(
    catalogue_server_app: Flask, workspace: str
) -> None:
    before = state_of(catalogue_server_app, workspace)
    alice = client_of(catalogue_server_app, "alice")
    for url, fields in _valid_forms(workspace):
        refused(post(alice, url, csrf=False, **fields), 400, "the form has expired")
        forged = post(alice, url, csrf=False, **fields, csrf_token="forged")
        refused(forged, 400, "did not come from this site")
    assert state_of(catalogue_server_app, workspace) == before


def test_every_form_needs_a_login(catalogue_server_app: Flask, workspace: str) -> None:
    before = state_of(catalogue_server_app, workspace)
    anonymous = client_of(catalogue_server_app, None)
    for url, fields in _valid_forms(workspace):
        refused(post(anonymous, url, **fields), 401, "log in to change the catalogue")
    assert state_of(catalogue_server_app, workspace) == before


def test_a_user_without_rights_is_refused_clearly(
    catalogue_server_app: Flask, workspace: str
) -> None:
    before = state_of(catalogue_server_app, workspace)
    bob = client_of(catalogue_server_app, "bob")
    for url, fields in _valid_forms(workspace):
        response = post(bob, url, **fields)
        refused(response, 403, "permission denied: bob may not")
        assert workspace in response.get_data(as_text=True)
    assert state_of(catalogue_server_app, workspace) == before
