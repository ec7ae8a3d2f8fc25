"""The API reference page (Swagger UI served from this server) and the favicon; every JSON
endpoint, download and chart is in the OpenAPI document."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def test_api_link_opens_the_reference_page_served_locally(client: FlaskClient) -> None:
    page = client.get("/browse").get_data(as_text=True)
    assert 'href="/api-docs"' in page
    docs = client.get("/api-docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert 'data-document="/api/v1/openapi.json"' in html
    # Every script and stylesheet the page loads comes from this server.
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    for source in sources:
        response = client.get(source)
        response.close()  # a file response: release it before the next request
        assert response.status_code == 200, source
    policy = docs.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    # The rest of the site still runs no script.
    assert "script-src" not in client.get("/browse").headers["Content-Security-Policy"]


def test_favicon_is_linked_and_served(client: FlaskClient) -> None:
    page = client.get("/browse").get_data(as_text=True)
    assert 'rel="icon"' in page
    for url in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(url)
        body = response.get_data()
        response.close()
        assert response.status_code == 200 and b"<svg" in body


def test_every_json_endpoint_download_and_chart_is_documented(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            root = operation.get("servers", document["servers"])[0]["url"].rstrip("/")
            documented.add((method.upper(), root + re.sub(r"\{[a-z_]+\}", "{}", path)))
    expected = set()
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<[^>]+>", "{}", rule.rule)
        is_api = url.startswith("/api/v1/") and not url.endswith("openapi.json")
        if is_api or url in ("/dataset/{}", "/chart.svg"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
                expected.add((method, url))
    assert expected and expected <= documented, expected - documented
