"""JSON twins and the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.webui.conftest import first_dataset

API = "/api/v1"


def _rules(app: Flask) -> dict[str, set[str]]:
    return {rule.rule: set(rule.methods or ()) for rule in app.url_map.iter_rules()}


# GET endpoints that are not pages: files, images, redirects, the login form.
NOT_PAGES = {
    "static",
    "index",
    "downloads.download",
    "file_download.download",
    "charts.chart",
    "catalogue.login",
    # The API reference is the OpenAPI document rendered; its twin is that document.
    "api_docs.docs",
    "api_docs.asset",
    "api_docs.favicon",
}
# The aggregation's pages have GraphQL as their machine twin (``search``, ``delivery``), and
# ``/graphql`` itself is the API; their downloads are files.
NOT_PAGES |= {"graphql"}
TWIN_IS_GRAPHQL = "aggregation."


def test_every_page_has_a_json_twin(app: Flask) -> None:
    rules = _rules(app)
    pages = [
        rule.rule for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith(("api.", TWIN_IS_GRAPHQL))
        and rule.endpoint not in NOT_PAGES
        and "GET" in (rule.methods or ())  # POST-only rules are the forms' targets
    ]  # fmt: skip
    assert len(pages) >= 4
    assert [rule for rule in pages if API + rule not in rules] == []


def test_openapi_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = set(document["paths"])
    for rule in _rules(app):
        if rule.startswith(API) and rule != f"{API}/openapi.json":
            openapi_rule = re.sub(r"<int:(\w+)>", r"{\1}", rule[len(API) :])
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
    page = page.replace("<wbr>", "")  # LFNs may wrap after their slashes
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


# --- the OpenAPI schemas hold for real answers ---------------------------------------------

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
          "integer": int, "number": (int, float)}  # fmt: skip


def schema_problems(schema: dict, value: Any, components: dict, where: str = "$") -> list[str]:
    """What in ``value`` breaks ``schema`` (the JSON Schema subset our document uses)."""
    if "$ref" in schema:
        return schema_problems(components[schema["$ref"].rsplit("/", 1)[1]], value,
                               components, where)  # fmt: skip
    problems: list[str] = []
    for part in schema.get("allOf", []):
        problems += schema_problems(part, value, components, where)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not schema_problems(s, value, components)]
        if len(matching) != 1:
            problems.append(f"{where}: matches {len(matching)} of oneOf")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(isinstance(value, _TYPES[n]) and not (n in ("integer", "number")
                 and isinstance(value, bool)) for n in names)  # fmt: skip
        if not ok:
            return [*problems, f"{where}: {type(value).__name__} is not {schema['type']}"]
    if isinstance(value, dict):
        problems += [f"{where}: {name} missing" for name in schema.get("required", [])
                     if name not in value]  # fmt: skip
        for name, part in schema.get("properties", {}).items():
            if name in value:
                problems += schema_problems(part, value[name], components, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += schema_problems(schema["items"], item, components, f"{where}[{index}]")
    return problems


def test_twins_answer_what_their_schemas_say(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    document = client.get(f"{API}/openapi.json").get_json()
    components = document["components"]["schemas"]
    query = first_dataset(client)
    file_id = client.get(f"{API}/dataset", query_string=query).get_json()["files"][0]["file_id"]
    calls = [
        ("/browse", "/browse", {}),
        ("/browse", "/browse", {key: value for key, value in query.items() if key != "filetype"}),
        ("/dataset", "/dataset", query),
        ("/file/{file_id}", f"/file/{file_id}", {}),
        ("/search", "/search", {"q": "RAW"}),
        ("/catalogue/", "/catalogue/", {"path": "/data"}),
        ("/catalogue/entry", "/catalogue/entry", {"path": "/data/file001"}),
        ("/catalogue/query", "/catalogue/query", {"dir": "/data", "where": "Size > 500"}),
    ]
    for rule, url, args in calls:
        schema = document["paths"][rule]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]  # fmt: skip
        answer = client.get(API + url, query_string=args).get_json()
        assert schema_problems(schema, answer, components) == [], url
    # The check can fail: a missing field and a wrong type are found.
    broken = client.get(f"{API}/dataset", query_string=query).get_json()
    del broken["totals"]["bytes"]
    broken["files"][0]["sites"] = "CERN"
    dataset_schema = {"$ref": "#/components/schemas/Dataset"}
    assert len(schema_problems(dataset_schema, broken, components)) == 2


def test_every_operation_declares_its_answers(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            success = operation["responses"].get("200") or operation["responses"]["201"]
            if "servers" in operation:  # downloads and charts: files, not JSON
                assert "application/json" not in success["content"] or (
                    success["content"]["application/json"]["schema"] == {"type": "string"}
                ), path
            else:
                assert "$ref" in success["content"]["application/json"]["schema"], (path, method)
            for status, answer in operation["responses"].items():
                if status >= "400":
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (path, status)  # fmt: skip
            expected = {"401", "403"} <= set(operation["responses"])
            assert expected == path.startswith(("/catalogue", "/recall")), path
