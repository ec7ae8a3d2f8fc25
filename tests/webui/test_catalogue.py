"""The catalogue browser: tree, attributes, entries with paging, queries with errors shown
in place, login, permission-filtered views and CSRF-protected edits."""

from __future__ import annotations

import re

from flask import Flask

from tests.webui.conftest import ALICE_PASSWORD, DATA_ENTRIES, csrf_of, login


def test_anonymous_sees_the_directory_but_not_the_secret(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    data = client.get("/api/v1/catalogue/", query_string={"path": "/data"}).get_json()
    assert data["user"] == {"name": "anonymous", "logged_in": False}
    assert data["attributes"] == [{"name": "Size", "type": "int"},
                                  {"name": "Owner", "type": "varchar(32)"}]  # fmt: skip
    assert data["subdirectories"] == ["/data/runs"]
    names = [entry["name"] for entry in data["entries"]]
    assert "secret" not in names and names[0] == "file000"


def test_entries_are_paged(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    per_page = catalogue_app.config["CATALOGUE_PAGE_SIZE"]
    first = client.get("/api/v1/catalogue/?path=/data").get_json()
    second = client.get("/api/v1/catalogue/?path=/data&page=2").get_json()
    assert len(first["entries"]) == per_page and first["paging"]["more"]
    readable = DATA_ENTRIES + 1  # and "mine"; not "secret"
    assert len(second["entries"]) == readable - per_page and not second["paging"]["more"]
    assert first["entries"][-1]["name"] < second["entries"][0]["name"]
    page = client.get("/catalogue/?path=/data").get_data(as_text=True)
    # The next page keeps the order (by name, ascending, unless the reader chose another).
    assert 'rel="next" href="/catalogue/?path=/data&amp;sort=name&amp;order=asc&amp;page=2"' in page


def test_directory_tree_shows_the_way_down(catalogue_app: Flask) -> None:
    page = catalogue_app.test_client().get("/catalogue/?path=/data/runs").get_data(as_text=True)
    assert 'aria-label="Directory tree"' in page
    assert 'href="/catalogue/?path=/data"' in page and 'aria-current="page">/data/runs' in page


def test_entry_page_and_twin(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    data = client.get("/api/v1/catalogue/entry?path=/data/file007").get_json()
    assert {a["name"]: a["value"] for a in data["attributes"]} == {"Size": 70, "Owner": "alice"}
    page = client.get("/catalogue/entry?path=/data/file007").get_data(as_text=True)
    assert "file007" in page and "<form" not in page.split("<main", 1)[1].split("Log in")[0]


def test_an_unreadable_entry_is_not_shown_even_by_path(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    login(client, "alice", ALICE_PASSWORD)
    response = client.get("/api/v1/catalogue/entry?path=/data/secret")
    assert response.status_code in (403, 404)
    assert "999999" not in response.get_data(as_text=True)
    rows = client.get("/api/v1/catalogue/query?dir=/data&where=Size > 500").get_json()["rows"]
    assert [row[0] for row in rows] == [f"file{i:03d}" for i in range(51, DATA_ENTRIES)]


def test_root_sees_the_secret(catalogue_app: Flask) -> None:
    from tests.webui.conftest import ROOT_PASSWORD

    client = catalogue_app.test_client()
    assert login(client, "root", ROOT_PASSWORD).status_code == 302
    names = [
        e["name"] for e in client.get("/api/v1/catalogue/?path=/data&page=2").get_json()["entries"]
    ]
    assert "secret" in names


def test_login_with_a_wrong_password_is_refused(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    response = login(client, "alice", "wrong")
    assert response.status_code == 401
    assert "Unknown user or wrong password" in response.get_data(as_text=True)
    data = client.get("/api/v1/catalogue/?path=/").get_json()
    assert data["user"]["name"] == "anonymous"


def test_login_without_csrf_token_is_refused(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    response = client.post("/catalogue/login", data={"user": "alice", "password": ALICE_PASSWORD})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)


def test_login_next_cannot_leave_the_site(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    token = csrf_of(client, "/catalogue/login")
    response = client.post("/catalogue/login", data={
        "user": "alice", "password": ALICE_PASSWORD, "csrf_token": token,
        "next": "//evil.example/",
    })  # fmt: skip
    assert response.headers["Location"] == "/catalogue/"


def test_query_returns_rows_as_the_user(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    data = client.get(
        "/api/v1/catalogue/query", query_string={"dir": "/data", "items": "FILE Size",
                                                 "where": "Size >= 570"}
    ).get_json()  # fmt: skip
    assert data["columns"] == ["FILE", "Size"]
    assert data["rows"] == [["file057", 570], ["file058", 580], ["file059", 590]]


def test_query_syntax_error_is_shown_at_its_position(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    where = "Size > > 10 and Owner = 'x'"
    response = client.get("/api/v1/catalogue/query", query_string={"dir": "/data", "where": where})
    assert response.status_code == 400
    error = response.get_json()
    assert set(error) == {"status", "message", "details"}
    position = error["details"]["position"]
    assert where[position:].startswith("> 10")
    assert "unexpected '>'" in error["message"]
    page = client.get("/catalogue/query", query_string={"dir": "/data", "where": where})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Size &gt; <mark>&gt;</mark> 10 and Owner = &#39;x&#39;" in html
    assert 'role="alert"' in html
    assert 'name="where" rows="3" aria-describedby="query-error" aria-invalid="true"' in html


def test_hostile_query_text_is_escaped(catalogue_app: Flask) -> None:
    where = "Owner = '<script>alert(1)</script>' and ("
    html = catalogue_app.test_client().get(
        "/catalogue/query", query_string={"dir": "/data", "where": where}
    ).get_data(as_text=True)  # fmt: skip
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_directory_is_not_found(catalogue_app: Flask) -> None:
    response = catalogue_app.test_client().get("/api/v1/catalogue/?path=/nowhere")
    assert response.status_code == 404
    assert response.get_json()["details"]["error"] == "NoSuchDirectory"
    relative = catalogue_app.test_client().get("/api/v1/catalogue/?path=data")
    assert relative.status_code == 400


def test_edit_needs_login_and_csrf_and_is_checked_by_the_engine(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    token = csrf_of(client, "/catalogue/login")
    form = {"path": "/data/mine", "attr:Size": "11", "attr:Owner": "alice", "csrf_token": token}
    assert client.post("/catalogue/entry/edit", data=form).status_code == 401
    login(client, "alice", ALICE_PASSWORD)
    token = csrf_of(client, "/catalogue/entry?path=/data/mine")
    assert (
        client.post("/catalogue/entry/edit", data={**form, "csrf_token": "forged"}).status_code
        == 400
    )
    saved = client.post("/catalogue/entry/edit", data={**form, "csrf_token": token})
    assert saved.status_code == 302
    data = client.get("/api/v1/catalogue/entry?path=/data/mine").get_json()
    assert {a["name"]: a["value"] for a in data["attributes"]}["Size"] == 11
    bad = client.post(
        "/catalogue/entry/edit", data={**form, "attr:Size": "eleven", "csrf_token": token}
    )
    assert bad.status_code == 422
    # root's entries are only readable for alice: the engine refuses the change
    theirs = client.post(
        "/catalogue/entry/edit", data={**form, "path": "/data/file001", "csrf_token": token}
    )
    assert theirs.status_code == 403


def test_add_entry_through_the_form(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    login(client, "alice", ALICE_PASSWORD)
    token = csrf_of(client, "/catalogue/?path=/data")
    response = client.post("/catalogue/entry/add", data={
        "directory": "/data/runs", "name": "run1", "csrf_token": token,
    })  # fmt: skip
    assert response.status_code == 302
    assert client.get("/api/v1/catalogue/entry?path=/data/runs/run1").status_code == 200


def test_bob_may_not_write_to_data(catalogue_app: Flask) -> None:
    state = catalogue_app.extensions["bookkeeping"]
    from bookkeeping.amga_adapter.engine.passwords import hash_password
    from bookkeeping.amga_adapter.engine.system_tables import users

    with state.engine.begin() as connection:
        connection.execute(
            users.update().where(users.c.name == "bob").values(password_hash=hash_password("b"))
        )
    client = catalogue_app.test_client()
    login(client, "bob", "b")
    token = csrf_of(client, "/catalogue/entry?path=/data/file002")
    response = client.post("/catalogue/entry/edit", data={
        "path": "/data/file002", "attr:Size": "0", "csrf_token": token,
    })  # fmt: skip
    assert response.status_code == 403


def test_api_twins_accept_a_token_instead_of_the_cookie(catalogue_app: Flask) -> None:
    from webui.tokens import create_token

    token = create_token(catalogue_app.extensions["bookkeeping"].engine, "root")
    client = catalogue_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    data = client.get("/api/v1/catalogue/?path=/data&page=2", headers=headers).get_json()
    assert data["user"]["name"] == "root"
    assert "secret" in [entry["name"] for entry in data["entries"]]
    refused = client.get("/api/v1/catalogue/?path=/data", headers={"Authorization": "Bearer x"})
    assert refused.status_code == 401


def test_logout_needs_csrf_and_ends_the_session(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    login(client, "alice", ALICE_PASSWORD)
    assert client.post("/catalogue/logout").status_code == 400  # no token: still logged in
    assert client.get("/api/v1/catalogue/").get_json()["user"]["name"] == "alice"
    token = csrf_of(client, "/catalogue/")
    assert client.post("/catalogue/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/catalogue/").get_json()["user"] == {
        "name": "anonymous", "logged_in": False,
    }  # fmt: skip


def test_numeric_columns_are_right_aligned(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    page = client.get("/catalogue/?path=/data").get_data(as_text=True)
    assert re.search(
        r'<th scope="col" class="num" aria-sort="none"><a [^>]*>Size</a></th>\s*'
        r'<th scope="col" aria-sort="none"><a [^>]*>Owner</a></th>',
        page,
    )
    assert '<td class="num">70</td><td class="cell">alice</td>' in page
    entry = client.get("/catalogue/entry?path=/data/file007").get_data(as_text=True)
    assert '<td class="num">70</td>' in entry and "<td>alice</td>" in entry
