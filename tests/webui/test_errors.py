"""Bad paths, bad parameters and hostile input: one error shape, nothing unescaped."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.webui.conftest import first_dataset

HOSTILE = '<script>alert("x")</script>\' OR 1=1 --'


def _error(client: FlaskClient, url: str, **query: object) -> dict:
    response = client.get(url, query_string=query)
    data = response.get_json()
    assert set(data) == {"status", "message", "details"}
    assert data["status"] == response.status_code
    return data


@pytest.mark.parametrize(
    ("url", "query", "status"),
    [
        ("/api/v1/file/999999999", {}, 404),
        ("/api/v1/no/such/page", {}, 404),
        ("/api/v1/browse", {"configname": "NoSuchConfig"}, 404),
        ("/api/v1/browse", {"conditions": "x"}, 400),  # a gap in the path
        ("/api/v1/browse", {"configname": "LHCb", "configversion": ""}, 400),
        ("/api/v1/browse", {"production": "twelve"}, 400),
        ("/api/v1/dataset", {"configname": "LHCb"}, 400),
        ("/api/v1/search", {"q": "run:abc"}, 400),
        ("/api/v1/search", {"q": "x" * 1001}, 400),
        ("/api/v1/search", {"q": "a\x00b"}, 400),
    ],
)
def test_errors_have_the_canonical_shape(
    client: FlaskClient, url: str, query: dict, status: int
) -> None:
    assert _error(client, url, **query)["status"] == status


def test_bad_parameter_error_names_the_parameter(client: FlaskClient) -> None:
    data = _error(client, "/api/v1/dataset", **first_dataset(client), page="0")
    assert data["details"]["parameter"] == "page"
    assert "page" in data["message"]
    data = _error(client, "/api/v1/dataset", **first_dataset(client), sort="password")
    assert data["details"]["parameter"] == "sort"


def test_page_past_the_end_is_not_found(client: FlaskClient) -> None:
    data = _error(client, "/api/v1/dataset", **first_dataset(client), page="100000")
    assert data["status"] == 404 and "past the last page" in data["message"]


def test_unknown_dataset_is_not_found(client: FlaskClient) -> None:
    query = {**first_dataset(client), "filetype": "NOPE"}
    assert _error(client, "/api/v1/dataset", **query)["status"] == 404


def test_method_not_allowed_has_the_shape(client: FlaskClient) -> None:
    response = client.post("/api/v1/browse")
    assert response.status_code == 405
    assert response.get_json()["status"] == 405


def test_html_errors_render_the_same_message(client: FlaskClient) -> None:
    response = client.get("/file/999999999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "no file with id 999999999" in page


@pytest.mark.parametrize("url", ["/search", "/browse"])
def test_hostile_query_strings_are_rendered_escaped(client: FlaskClient, url: str) -> None:
    query = {"q": HOSTILE} if url == "/search" else {"configname": HOSTILE}
    page = client.get(url, query_string=query).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_hostile_search_finds_nothing_and_changes_nothing(client: FlaskClient) -> None:
    before = client.get("/api/v1/browse").get_json()["totals"]
    data = client.get("/api/v1/search", query_string={"q": "%' OR '1'='1"}).get_json()
    assert data["files"] == []
    assert client.get("/api/v1/browse").get_json()["totals"] == before


def test_like_wildcards_in_search_are_literal(client: FlaskClient) -> None:
    assert client.get("/api/v1/search", query_string={"q": "%"}).get_json()["files"] == []
    assert client.get("/api/v1/search", query_string={"q": "/lhcb_"}).get_json()["files"] == []


def test_json_answers_never_carry_markup_characters(client: FlaskClient) -> None:
    raw = client.get("/api/v1/search", query_string={"q": "<b>'&"}).get_data(as_text=True)
    assert "<" not in raw and "'" not in raw and "&" not in raw
    assert "\\u003cb\\u003e\\u0027\\u0026" in raw
    assert client.get("/api/v1/search", query_string={"q": "<b>'&"}).get_json()["q"] == "<b>'&"
