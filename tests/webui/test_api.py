"""JSON twins and the OpenAPI document."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.webui.conftest import first_dataset

API = "/api/v1"


def _rules(app: Flask) -> dict[str, set[str]]:
    return {rule.rule: set(rule.methods or ()) for rule in app.url_map.iter_rules()}


# Endpoints that are not pages: files, images, redirects, form posts.
NOT_PAGES = {"static", "index", "downloads.download", "charts.chart", "catalogue.login",
             "catalogue.logout", "catalogue.edit_entry", "catalogue.add_entry"}  # fmt: skip


def test_every_page_has_a_json_twin(app: Flask) -> None:
    rules = _rules(app)
    pages = [
        rule.rule for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith("api.") and rule.endpoint not in NOT_PAGES
    ]  # fmt: skip
    assert len(pages) >= 4
    assert [rule for rule in pages if API + rule not in rules] == []


def test_openapi_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = set(document["paths"])
    for rule in _rules(app):
        if rule.startswith(API) and rule != f"{API}/openapi.json":
            openapi_rule = rule[len(API) :].replace("<int:file_id>", "{file_id}")
            assert openapi_rule in described, rule
    assert document["components"]["schemas"]["Error"]["required"] == [
        "status", "message", "details",
    ]  # fmt: skip


def test_openapi_parameters_match_what_the_views_read(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    dataset = document["paths"]["/dataset"]["get"]
    names = {param["name"] for param in dataset["parameters"]}
    assert {"configname", "filetype", "production", "page", "per_page", "sort", "order"} <= names
    file_page = document["paths"]["/file/{file_id}"]["get"]
    assert file_page["parameters"][0]["in"] == "path"


def test_twin_data_is_what_the_page_shows(client: FlaskClient) -> None:
    query = first_dataset(client)
    data = client.get(f"{API}/dataset", query_string=query).get_json()
    page = client.get("/dataset", query_string=query).get_data(as_text=True)
    for item in data["files"]:
        assert item["lfn"] in page
    assert f"Page 1 of {data['paging']['pages']}" in page


def test_pages_link_their_json_twin(client: FlaskClient) -> None:
    page = client.get("/browse?configname=MC").get_data(as_text=True)
    assert 'href="/api/v1/browse?configname=MC"' in page


def test_backend_is_named_in_a_header_not_in_the_page(client: FlaskClient) -> None:
    response = client.get("/browse")
    assert response.headers["X-Bookkeeping-Backend"] == "warehouse"
    assert "warehouse" not in response.get_data(as_text=True)


def test_pages_forbid_scripts_and_framing(client: FlaskClient) -> None:
    headers = client.get("/browse").headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_stylesheet_is_served_locally(client: FlaskClient) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert "http" not in response.get_data(as_text=True)  # nothing fetched from elsewhere
