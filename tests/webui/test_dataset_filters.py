"""The dataset page's filters: in the URL, applied to the files, the totals, the facets, the
downloads and the charts; refused with a 400 naming the parameter when malformed."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.webui.conftest import largest_dataset


def _all_files(client: FlaskClient, query: dict[str, Any]) -> list[dict[str, Any]]:
    data = client.get("/api/v1/dataset", query_string={**query, "per_page": 1000}).get_json()
    assert data["paging"]["pages"] == 1
    return data["files"]


def _middle(values: list[int]) -> tuple[int, int]:
    ordered = sorted(values)
    return ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]


def test_run_and_size_ranges_keep_exactly_the_files_within(client: FlaskClient) -> None:
    query = largest_dataset(client)
    everything = _all_files(client, query)
    low, high = _middle([f["run"] for f in everything if f["run"] is not None])
    small, large = _middle([f["size"] for f in everything])
    filters = {"run_min": low, "run_max": high, "size_min": small, "size_max": large}
    data = client.get("/api/v1/dataset", query_string={**query, **filters}).get_json()
    expected = [
        f
        for f in everything
        if f["run"] is not None and low <= f["run"] <= high and small <= f["size"] <= large
    ]
    assert 0 < len(expected) < len(everything)
    assert data["totals"]["files"] == len(expected)
    assert data["totals"]["events"] == sum(f["events"] for f in expected)
    assert data["totals"]["bytes"] == sum(f["size"] for f in expected)
    assert sorted(f["lfn"] for f in data["files"]) == sorted(f["lfn"] for f in expected)
    # The per-production table and its charts follow the filters too.
    assert sum(item["files"] for item in data["productions"]) == len(expected)
    assert data["filters"]["values"] == filters


def test_quality_facet_counts_what_each_flag_would_leave(client: FlaskClient) -> None:
    query = largest_dataset(client)
    everything = _all_files(client, query)
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    facet = {item["value"]: item["files"] for item in data["filters"]["quality"]}
    for flag, count in facet.items():
        assert count == sum(1 for f in everything if f["quality"] == flag)
    flag = max(facet, key=lambda name: facet[name])
    narrowed = client.get("/api/v1/dataset", query_string={**query, "quality": flag}).get_json()
    assert narrowed["totals"]["files"] == facet[flag]
    assert {f["quality"] for f in narrowed["files"]} == {flag}
    selected = [item for item in narrowed["filters"]["quality"] if item["selected"]]
    assert [item["value"] for item in selected] == [flag]


def test_disk_count_agrees_with_the_badges_under_filters(client: FlaskClient) -> None:
    query = largest_dataset(client)
    low, high = _middle([f["events"] for f in _all_files(client, query)])
    filtered = {**query, "events_min": low, "events_max": high}
    data = client.get("/api/v1/dataset", query_string={**filtered, "per_page": 1000}).get_json()
    with_copy = [
        f
        for f in data["files"]
        if f["location"] and (f["location"]["on_disk"] or f["location"]["recalled"])
    ]
    assert data["totals"]["files_on_disk"] == len(with_copy)


def test_filters_travel_in_every_link_of_the_page(client: FlaskClient) -> None:
    query = {**largest_dataset(client), "run_min": 1, "quality": "OK", "per_page": 2}
    page = client.get("/dataset", query_string=query).get_data(as_text=True)
    for suffix in ("lfns.txt", "files.csv"):
        start = page.index(f'href="/dataset/{suffix}?')
        link = page[start : page.index('"', start + 6)]
        assert "run_min=1" in link and "quality=OK" in link
    assert "clear all filters" in page
    chart = page[page.index("/chart.svg?") :]
    assert "run_min=1" in chart[: chart.index('"')]


def test_filtered_download_lists_only_the_filtered_files(client: FlaskClient) -> None:
    query = largest_dataset(client)
    everything = _all_files(client, query)
    low, high = _middle([f["events"] for f in everything])
    filtered = {**query, "events_min": low, "events_max": high}
    lines = client.get("/dataset/lfns.txt", query_string=filtered).get_data(as_text=True)
    expected = sorted(f["lfn"] for f in everything if low <= f["events"] <= high)
    assert lines.splitlines() == expected


def test_a_filter_leaving_nothing_is_an_empty_page_not_a_404(client: FlaskClient) -> None:
    query = {**largest_dataset(client), "size_min": 10**15}
    response = client.get("/api/v1/dataset", query_string=query)
    assert response.status_code == 200
    assert response.get_json()["totals"]["files"] == 0


def test_malformed_filters_are_refused_naming_the_parameter(client: FlaskClient) -> None:
    query = largest_dataset(client)
    for bad, name in (
        ({"run_min": "x"}, "run_min"),
        ({"run_min": 5, "run_max": 4}, "run_max"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "2012-01-01T00:00:00+02:00"}, "created_from"),
        ({"size_max": str(2**70)}, "size_max"),
    ):
        response = client.get("/api/v1/dataset", query_string={**query, **bad})
        assert response.status_code == 400, bad
        assert name in response.get_json()["message"] + str(response.get_json()["details"])


def test_download_names_encode_the_whole_path_and_the_filters(client: FlaskClient) -> None:
    query = largest_dataset(client)
    names = set()
    for extra in ({}, {"run_min": 1}, {"run_min": 2}, {"quality": "OK"}):
        for suffix in ("lfns.txt", "files.csv"):
            response = client.get(f"/dataset/{suffix}", query_string={**query, **extra})
            response.get_data()  # a streamed body: read it whole before the next request
            response.close()
            disposition = response.headers["Content-Disposition"]
            name = disposition.split('filename="')[1].rstrip('"')
            assert name.endswith(suffix)
            names.add(name)
            for level in ("conditions", "processingpass", "filetype"):
                fragment = str(query[level]).replace(" ", "-").replace("/", "-")
                assert fragment.strip("-") in name, (level, name)
    assert len(names) == 8  # every format and every filter its own name


def _kinds(item: dict[str, Any]) -> set[str]:
    """The page's own per-file badges, read as the storage filter means them."""
    location = item["location"] or {"on_disk": False, "on_tape": False, "recalled": []}
    kinds = {"disk"} if location["on_disk"] else set()
    if location["recalled"]:
        kinds.add("recalled")
    if location["on_tape"] and not kinds:
        kinds.add("tape")
    return kinds


def test_storage_share_and_copy_filters_agree_with_the_files_badges(client: FlaskClient) -> None:
    query = largest_dataset(client)
    everything = _all_files(client, query)
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    share = data["storage_share"]
    assert (share["files"], share["bytes"]) == (len(everything), sum(f["size"] for f in everything))
    facet = {item["value"]: item["files"] for item in data["filters"]["storage"]}
    for kind in ("disk", "tape", "recalled"):
        chosen = [f for f in everything if kind in _kinds(f)]
        assert share[kind] == {"files": len(chosen), "bytes": sum(f["size"] for f in chosen)}
        assert facet[kind] == len(chosen)
        narrowed = client.get("/api/v1/dataset", query_string={**query, "storage": kind})
        body = narrowed.get_json()
        assert body["totals"]["files"] == len(chosen), kind
        assert sorted(f["lfn"] for f in body["files"]) == sorted(f["lfn"] for f in chosen)
        assert body["storage_share"][kind]["files"] == len(chosen)
        assert sum(item["files"] for item in body["productions"]) == len(chosen)
    assert 0 < facet["tape"] < len(everything)  # the generated data has every kind
    sites = {item["value"]: item["files"] for item in data["filters"]["site"]}
    assert sites == {
        site: sum(1 for f in everything if site in f["sites"])
        for site in {s for f in everything for s in f["sites"]}
    }
    site = max(sites, key=lambda name: sites[name])
    both = {**query, "site": site, "storage": "disk"}
    body = client.get("/api/v1/dataset", query_string=both).get_json()
    kept = [f for f in everything if site in f["sites"] and "disk" in _kinds(f)]
    assert body["totals"]["files"] == len(kept)
    assert body["filters"]["values"] == {"site": site, "storage": "disk"}
    # Each facet counts what its choice would leave under the other filter.
    disk_at = {i["value"]: i["files"] for i in body["filters"]["site"]}
    assert disk_at[site] == len(kept)
    kinds_at = {i["value"]: i["files"] for i in body["filters"]["storage"]}
    assert kinds_at["tape"] == sum(1 for f in everything if site in f["sites"] and
                                   "tape" in _kinds(f))  # fmt: skip
    listed = client.get("/dataset/lfns.txt", query_string=both)
    assert sorted(listed.text.split()) == sorted(f["lfn"] for f in kept)
    assert f"site-{site}_disk_lfns.txt" in listed.headers["Content-Disposition"]
    page = client.get("/dataset", query_string=both).text
    assert 'id="storage-share"' in page and f'<option value="{site}" selected>' in page


def test_bad_copy_filters_are_refused_naming_the_parameter(client: FlaskClient) -> None:
    query = largest_dataset(client)
    for name, value, words in [
        ("storage", "floppy", "expected one of disk, tape, recalled"),
        ("site", "x" * 65, "at most 64 characters"),
    ]:
        answer = client.get("/api/v1/dataset", query_string={**query, name: value})
        assert answer.status_code == 400
        body = answer.get_json()
        assert body["details"]["parameter"] == name and words in body["message"]
    empty = client.get("/api/v1/dataset", query_string={**query, "site": "NOWHERE"})
    assert empty.status_code == 200 and empty.get_json()["totals"]["files"] == 0
