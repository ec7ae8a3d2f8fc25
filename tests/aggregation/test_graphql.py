"""GraphQL over real HTTP with a standard client (gql): introspection, identification
queries, the search and its cache, bad input; on the database cache and on Redis."""

from __future__ import annotations

from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

SEARCH = """
query ($filter: SearchFilter!, $first: Int, $after: String) {
  search(filter: $filter, first: $first, after: $after) {
    queryId total checksum cached cacheStatus endCursor
    files { lfn size adler32 }
    delivery { state }
  }
}
"""


def client(base: str) -> Client:
    transport = RequestsHTTPTransport(url=f"{base}/graphql", timeout=60)
    return Client(transport=transport, fetch_schema_from_transport=True)


def run(base: str, document: str, **variables: Any) -> dict[str, Any]:
    with client(base) as session:
        request = GraphQLRequest(document, variable_values=variables)
        return session.execute(request)  # type: ignore[no-any-return]


def some_filter(base: str) -> dict[str, Any]:
    """A configuration and file type with more than ten visible files (some file types are
    all invisible, as intermediate LHCb files are)."""
    for config in run(base, "{ configurations { value } }")["configurations"]:
        types = run(
            base,
            "query ($f: SearchFilter) { fileTypes(filter: $f) { value files } }",
            f={"configName": config["value"]},
        )["fileTypes"]
        for file_type in sorted(types, key=lambda v: -v["files"]):
            given = {"configName": config["value"], "fileType": file_type["value"]}
            if (
                run(
                    base,
                    "query ($f: SearchFilter!) { search(filter: $f, first: 0) { total } }",
                    f=given,
                )["search"]["total"]
                > 10
            ):
                return given
    raise AssertionError("no dataset with more than ten visible files")


def test_introspection_and_identification(served: str) -> None:
    with client(served) as session:
        assert session.client.schema is not None  # fetched by the introspection query
        names = set(session.client.schema.type_map)
        assert {"SearchFilter", "SearchResult", "Delivery", "File"} <= names
        data = session.execute(
            gql(
                "{ configurations { value files } eventTypes { id description files } "
                "fileTypes { value } productions { value } me { user loggedIn } }"
            )
        )
    assert data["configurations"] and data["eventTypes"][0]["description"]
    assert data["me"] == {"user": "anonymous", "loggedIn": False}


def test_same_search_in_another_order_is_a_cache_hit(served: str) -> None:
    # sizeMin 0 selects the same files, under a query id not yet searched.
    given = {**some_filter(served), "sizeMin": 0}
    first = run(served, SEARCH, filter=given, first=10)["search"]
    assert first["total"] > 10 and len(first["files"]) == 10
    assert not first["cached"] and first["cacheStatus"] == "miss"
    reordered = dict(reversed(list(given.items())))
    assert list(reordered) != list(given)
    second = run(served, SEARCH, filter=reordered, first=10)["search"]
    assert second["cached"] and second["cacheStatus"] == "hit"
    assert second["queryId"] == first["queryId"]
    assert (second["checksum"], second["files"]) == (first["checksum"], first["files"])
    # The next page follows on, from the cache, without repeating a file.
    page2 = run(served, SEARCH, filter=given, first=10, after=first["endCursor"])["search"]
    assert page2["cached"]
    assert not {f["lfn"] for f in page2["files"]} & {f["lfn"] for f in first["files"]}
    assert page2["files"][0]["lfn"] > first["files"][-1]["lfn"]


def test_query_id_is_md5_of_the_canonical_form(served: str) -> None:
    import hashlib
    import json

    given = some_filter(served)
    answer = run(served, SEARCH, filter=given, first=1)["search"]
    canonical = json.dumps({"filter": given, "v": 1}, sort_keys=True, separators=(",", ":"))
    assert answer["queryId"] == hashlib.md5(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"runMin": 10, "runMax": 5}, "inverted range: runMin 10 is after runMax 5"),
        ({"sizeMin": -1}, "sizeMin must not be negative"),
        ({"configName": ""}, "configName must be a non-empty string"),
    ],
)
def test_bad_filters_are_errors_naming_them(served: str, filter_: dict, message: str) -> None:
    with pytest.raises(TransportQueryError) as caught:
        run(served, SEARCH, filter=filter_)
    assert message in str(caught.value)
    assert caught.value.errors[0]["extensions"]["code"] == 361


def test_unknown_filter_and_invalid_graphql_are_refused(served: str) -> None:
    import requests

    unknown = requests.post(
        f"{served}/graphql",
        json={"query": '{ search(filter: {colour: "red"}) { total } }'},
        timeout=30,
    ).json()
    assert "colour" in unknown["errors"][0]["message"]
    broken = requests.post(f"{served}/graphql", json={"query": "{ search("}, timeout=30).json()
    assert "Syntax Error" in broken["errors"][0]["message"]


def test_depth_and_cost_limits(served: str) -> None:
    import requests

    costly = (
        "{ "
        + " ".join(
            f"s{i}: search(filter: {{runMin: {i}}}, first: 1000) {{ total }}" for i in range(8)
        )
        + " }"
    )
    answer = requests.post(f"{served}/graphql", json={"query": costly}, timeout=30).json()
    assert "query cost over the limit" in answer["errors"][0]["message"]
    assert "data" not in answer or answer["data"] is None
    deep = "{ me { deliveries { queryId } } }"  # within limits
    assert (
        "errors" not in requests.post(f"{served}/graphql", json={"query": deep}, timeout=30).json()
    )


def test_graphiql_is_served_from_this_site(served: str) -> None:
    import requests

    page = requests.get(f"{served}/graphql", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "graphiql.min.js" in page.text
    assert (
        "unpkg" not in page.text and "script-src 'self'" in page.headers["Content-Security-Policy"]
    )
    script = requests.get(f"{served}/static/graphiql/graphiql.min.js", timeout=30)
    assert script.status_code == 200 and len(script.content) > 1_000_000


def test_nobody_signed_in_gets_no_delivery(served: str) -> None:
    """Anonymous is everyone: it may search, but a delivery needs a user."""
    prepare = 'mutation { prepareDelivery(filter: {configName: "LHCb"}) { state } }'
    with pytest.raises(TransportQueryError) as caught:
        run(served, prepare)
    error = caught.value.errors[0]
    assert "log in, or send an API token" in error["message"]
    assert error["extensions"]["code"] == 370
    seen = run(served, "{ me { deliveries { queryId } } }")
    assert seen == {"me": {"deliveries": []}}
