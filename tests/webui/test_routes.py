"""Every route of the application (``app.url_map``), on every back-end: with valid
parameters on a populated database, then with hostile text in each query parameter (and
each path parameter, form field and JSON value). Never a 500, errors in the canonical
shape, the hostile text never back unescaped.

A route missing from ``ROUTES`` fails ``test_every_route_is_exercised``: add it there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from bookkeeping.generator import generate_reports
from bookkeeping.writer.serialise import report_to_json
from tests.webui.conftest import ALICE_PASSWORD, csrf_of, first_dataset, login, seed_catalogue
from webui.app import PAGE_GROUPS
from webui.pages import API_PREFIX
from webui.tokens import create_token

HOSTILE = (
    "<script>alert(1)</script>'\";--\x00",
    "<script>alert(1)</script>'\";--",
    "9" * 30,  # an id beyond 64 bits
    "-9223372036854775809",
    "é✓ \u202e",  # non-ASCII (form tokens, names)
    "1e309",
)
# None of these may come back as such: each is markup or quoting that was not escaped.
MARKERS = ("<script>alert(1)</script>", "'\";--", "\x00")
UNKNOWN_PARAMETER = "zzz"  # pages echo their query string (the JSON twin link)


@dataclass(frozen=True)
class Get:
    query: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    status: int = 200
    params: tuple[str, ...] = ()  # what the route reads besides ``query`` and its page spec


@dataclass(frozen=True)
class Post:
    body: dict[str, Any]  # form fields, or the JSON document
    json: bool = False  # a JSON API (token) rather than a form (session and CSRF token)


Call = Get | Post


@dataclass(frozen=True)
class Context:
    dataset: dict[str, str]
    file_id: int
    lfn: str
    report: dict[str, Any]
    job_id: int


def _browse(c: Context) -> list[Call]:
    level = {k: v for k, v in c.dataset.items() if k != "filetype"}
    return [Get(), Get(level)]


def _dataset(c: Context) -> list[Call]:
    return [Get({**c.dataset, "page": "1", "per_page": "5", "sort": "size", "order": "desc"})]


def _downloads(c: Context) -> list[Call]:
    suffixes = ("lfns.txt", "files.csv", "files.json", "files.py")
    names = tuple(c.dataset) + ("production",)
    return [Get(dict(c.dataset), {"suffix": suffix}, params=names) for suffix in suffixes]


def _chart(c: Context) -> list[Call]:
    return [Get({**c.dataset, "by": by, "metric": "bytes", "layout": layout},
                params=("production",))
            for by in ("filetype", "production") for layout in ("wide", "narrow")]  # fmt: skip


def _forms(body: dict[str, str]) -> Callable[[Context], list[Call]]:
    return lambda c: [Post(body)]


ROUTES: dict[str, Callable[[Context], list[Call]]] = {
    "index": lambda c: [Get(status=302)],
    "static": lambda c: [Get(path={"filename": "style.css"})],
    "browse.browse": _browse,
    "browse.dataset": _dataset,
    "files.file": lambda c: [Get(path={"file_id": str(c.file_id)})],
    "files.suggest": lambda c: [Get({"q": q}) for q in ("", "RAW", "1", c.lfn)],
    "files.job": lambda c: [Get(path={"job_id": str(c.job_id)})],
    "files.search": lambda c: [Get({"q": q}) for q in ("RAW", c.lfn, "production:1")],
    "downloads.download": _downloads,
    # No storage here: no disk copy to stream (tests/webui/test_file_download.py streams one).
    "file_download.download": lambda c: [Get(path={"file_id": str(c.file_id)}, status=404)],
    "charts.chart": _chart,
    "api_docs.docs": lambda c: [Get()],
    "api_docs.asset": lambda c: [Get(path={"name": "swagger-ui.css"})],
    "api_docs.favicon": lambda c: [Get()],
    "recall.request_recall": lambda c: [Post(dict(c.dataset))],
    "recall.recall_request": lambda c: [Get(path={"request_id": "1"}, status=503)],
    "recall.release_recall": _forms({}),
    "catalogue.directory": lambda c: [Get({"path": "/data", "page": "2"})],
    "catalogue.entry": lambda c: [Get({"path": "/data/file007"})],
    "catalogue.query": lambda c: [
        Get({"dir": "/data", "items": "FILE Size", "where": "Size > 100", "page": "1"})
    ],  # fmt: skip
    "catalogue.login": lambda c: [
        Get({"next": "/catalogue/"}),
        Post({"user": "alice", "password": ALICE_PASSWORD, "next": "/catalogue/"}),
    ],
    "catalogue.logout": _forms({}),
    "catalogue.edit_entry": _forms({"path": "/data/mine", "attr:Owner": "alice"}),
    "catalogue.add_entry": _forms({"directory": "/data/runs", "name": "r", "attr:x": "1"}),
    "catalogue.delete_entry": _forms({"path": "/data/nothing", "confirm": "yes"}),
    "catalogue.add_attribute": _forms({"directory": "/data/runs", "name": "N", "type": "int"}),
    "catalogue.remove_attribute": _forms({"directory": "/data/runs", "name": "Nope"}),
    "catalogue.create_directory": _forms({"directory": "/data/runs", "name": "d"}),
    "api.jobs.record_job": lambda c: [Post(c.report, json=True)],
    "api.file_changes.visibility": lambda c: [
        Post({"lfns": [c.lfn], "visible": True}, json=True)
    ],  # fmt: skip
    "api.file_changes.replicas": lambda c: [
        Post(
            {
                "action": "change",
                "lfns": [c.lfn],
                "site": "NOWHERE",
                "storage_class": "disk",
                "area": "",
                "status": "lost",
                "pfn": "",
                "new_area": "",
            },
            json=True,
        )
    ],  # fmt: skip
    "api.openapi.openapi": lambda c: [Get()],
    "graphql": lambda c: [Get({"query": "{ me { user } }"})],
    "aggregation.search_page": lambda c: [
        Get({"configName": "LHCb", "runMin": "1", "storage": "disk"})
    ],  # fmt: skip
    "aggregation.prepare": _forms({"configName": "NOTHING", "composition": "original"}),
    "aggregation.delivery_directory": lambda c: [Get(path={"token": "unknown"}, status=404)],
    "aggregation.delivery_archive": lambda c: [Get(path={"token": "unknown"}, status=404)],
    "aggregation.delivery_manifest": lambda c: [Get(path={"token": "unknown"}, status=404)],
    "aggregation.delivery_file": lambda c: [
        Get(path={"token": "unknown", "name": "a/b.dst"}, status=404)
    ],  # fmt: skip
}
_PAGE_PARAMS = {
    f"{group.name}.{spec.endpoint}": tuple(p.name for p in spec.params if p.where == "query")
    for group in PAGE_GROUPS
    for spec in group.specs
}


def _key(endpoint: str) -> str:
    """The JSON twin of a page is called like the page."""
    twin = endpoint.removeprefix("api.")
    return twin if endpoint.startswith("api.") and twin in _PAGE_PARAMS else endpoint


def _rules(app: Flask, key: str) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if _key(rule.endpoint) == key]


@pytest.fixture(scope="module")
def routed(server_app: Flask) -> Iterator[tuple[Flask, Context, str]]:
    """The populated application with the test catalogue, and an API token for alice."""
    seed_catalogue(server_app)
    client = server_app.test_client()
    dataset = {k: str(v) for k, v in first_dataset(client).items()}
    first = client.get("/api/v1/dataset", query_string=dataset).get_json()["files"][0]
    report = json.loads(report_to_json(next(iter(generate_reports(1, seed=977)))))
    token = create_token(server_app.extensions["bookkeeping"].engine, "alice")
    context = Context(dataset, first["file_id"], first["lfn"], report, first["job_id"])
    yield server_app, context, token


def test_every_route_is_exercised(app: Flask) -> None:
    keys = {_key(rule.endpoint) for rule in app.url_map.iter_rules()}
    assert sorted(keys - set(ROUTES)) == [], "new routes: add them to ROUTES in this module"
    assert sorted(set(ROUTES) - keys) == [], "routes that are gone: remove them from ROUTES"


# --- what every answer must be -------------------------------------------------------------


def check_answer(response: TestResponse, url: str) -> None:
    status = response.status_code
    # A recall needs a recall daemon, which this application has not (503, said so);
    # tests/datahandling/test_web_recall.py runs the recall pages with a real one.
    assert status < 500 or (status == 503 and "/recall" in url), f"{url}: {status}"
    text = response.get_data().decode("utf-8", "replace")
    for marker in MARKERS:
        assert marker not in text, f"{url}: {marker!r} came back unescaped"
    for name, value in response.headers.items():
        assert "<script" not in value.lower(), f"{url}: header {name}: {value}"
    if url.startswith(API_PREFIX):
        assert response.is_json, f"{url}: {response.mimetype}"
        if status >= 400:
            error = response.get_json()
            assert set(error) == {"status", "message", "details"}, f"{url}: {error}"
            assert error["status"] == status and isinstance(error["details"], dict)
    elif status >= 400:
        assert response.mimetype == "text/html" and 'role="alert"' in text, url
    response.close()


def _url(rule: Rule, path: dict[str, str]) -> str:
    url = rule.rule
    for name, value in path.items():
        url = url.replace(f"<{name}>", quote(value, safe=""))
        for converter in ("int", "path", "string"):
            url = url.replace(f"<{converter}:{name}>", quote(value, safe=""))
    if "<any(" in url:  # downloads, assets: one of the listed values each
        prefix, rest = url.split("<any(", 1)
        name = rest.split("):", 1)[1].rstrip(">")
        url = prefix + quote(path[name], safe="")
    return url


def _get(client: FlaskClient, rule: Rule, call: Get, query: dict[str, str],
         path: dict[str, str] | None = None) -> tuple[TestResponse, str]:  # fmt: skip
    url = _url(rule, path if path is not None else call.path)
    return client.get(url, query_string=query), url


def _post(client: FlaskClient, rule: Rule, call: Post, body: Any, token: str) -> TestResponse:
    if call.json:
        headers = {"Authorization": f"Bearer {token}"}
        if isinstance(body, str):
            return client.post(
                rule.rule, data=body, headers=headers, content_type="application/json"
            )
        return client.post(rule.rule, json=body, headers=headers)
    fields = {"csrf_token": csrf_of(client, "/catalogue/login"), **body}
    return client.post(rule.rule, data=fields)


def _alice(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "alice", ALICE_PASSWORD).status_code == 302
    return client


# --- valid parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_valid_requests(routed: tuple[Flask, Context, str], endpoint: str) -> None:
    app, context, _token = routed
    client = _alice(app)
    rules = _rules(app, endpoint)
    assert rules
    for rule in rules:
        for call in ROUTES[endpoint](context):
            if isinstance(call, Get) and "GET" in (rule.methods or ()):
                response, url = _get(client, rule, call, call.query)
                assert response.status_code == call.status, f"{url}: {response.text[:300]}"
                check_answer(response, url)


# --- hostile values ------------------------------------------------------------------------


def _leaves(document: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to every scalar of a JSON document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _leaves(value, (*trail, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _leaves(value, (*trail, index))
    else:
        yield trail


def _replaced(document: Any, trail: tuple[Any, ...], value: str) -> Any:
    if not trail:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[trail[0]] = _replaced(document[trail[0]], trail[1:], value)
    return copy


def _hostile_bodies(call: Post) -> Iterator[Any]:
    for hostile in HOSTILE:
        if call.json:
            yield hostile  # not JSON at all
            for trail in _leaves(call.body):
                yield _replaced(call.body, trail, hostile)
        else:
            for name in ("csrf_token", *call.body):
                yield {**call.body, name: hostile}


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_survives_hostile_values(routed: tuple[Flask, Context, str], endpoint: str) -> None:
    app, context, token = routed
    client = _alice(app)
    for rule in _rules(app, endpoint):
        for call in ROUTES[endpoint](context):
            if isinstance(call, Post) and "POST" in (rule.methods or ()):
                for body in _hostile_bodies(call):
                    check_answer(_post(client, rule, call, body, token), rule.rule)
            if not isinstance(call, Get) or "GET" not in (rule.methods or ()):
                continue
            names = {*_PAGE_PARAMS.get(endpoint, ()), *call.query, *call.params,
                     UNKNOWN_PARAMETER}  # fmt: skip
            for name in sorted(names):
                for hostile in HOSTILE:
                    check_answer(*_get(client, rule, call, {**call.query, name: hostile}))
            for name in call.path:
                for hostile in HOSTILE:
                    path = {**call.path, name: hostile}
                    check_answer(*_get(client, rule, call, call.query, path))
