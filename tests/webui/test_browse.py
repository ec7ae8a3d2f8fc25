"""The dataset browser: levels with counts, the dataset page, paging and sorting."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webui.conftest import GENERATED_FILES, first_dataset, largest_dataset


def test_index_redirects_to_the_browser(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/browse")


def test_top_level_lists_configurations_with_counts_adding_up(client: FlaskClient) -> None:
    data = client.get("/api/v1/browse").get_json()
    assert data["level"]["name"] == "configname"
    assert [item["value"] for item in data["values"]] == ["LHCb", "MC"]
    assert data["totals"]["files"] == GENERATED_FILES
    assert sum(item["files"] for item in data["values"]) == GENERATED_FILES


def test_each_level_narrows_to_the_next_with_consistent_totals(client: FlaskClient) -> None:
    query: dict = {}
    files = GENERATED_FILES
    for name in ("configname", "configversion", "conditions", "processingpass", "eventtype",
                 "filetype"):  # fmt: skip
        data = client.get("/api/v1/browse", query_string=query).get_json()
        assert data["level"]["name"] == name
        assert data["totals"]["files"] == files
        chosen = data["values"][0]
        query, files = chosen["query"], chosen["files"]
    assert set(query) == {"configname", "configversion", "conditions", "processingpass",
                          "eventtype", "filetype"}  # fmt: skip


def test_event_type_level_shows_descriptions(client: FlaskClient) -> None:
    query = first_dataset(client)
    del query["eventtype"], query["filetype"]
    data = client.get("/api/v1/browse", query_string=query).get_json()
    assert data["level"]["name"] == "eventtype"
    assert all(item["description"] for item in data["values"])
    page = client.get("/browse", query_string=query).get_data(as_text=True)
    assert data["values"][0]["description"] in page


def test_browse_page_links_every_value_and_shows_the_breadcrumbs(client: FlaskClient) -> None:
    page = client.get("/browse", query_string={"configname": "MC"}).get_data(as_text=True)
    assert '<nav class="crumbs"' in page
    assert 'href="/browse?configname=MC&amp;configversion=2012"' in page
    assert "All configurations" in page


def test_file_type_level_links_to_datasets_and_shows_charts(client: FlaskClient) -> None:
    query = first_dataset(client)
    del query["filetype"]
    page = client.get("/browse", query_string=query).get_data(as_text=True)
    assert 'href="/dataset?' in page
    assert "/chart.svg?by=filetype" in page
    assert 'alt="Bar chart: events per file type' in page


def test_dataset_page_shows_totals_files_and_downloads(client: FlaskClient) -> None:
    query = first_dataset(client)
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    totals = data["totals"]
    assert len(data["files"]) == min(totals["files"], data["paging"]["per_page"])
    assert totals["events"] > 0 and totals["bytes"] > 0
    assert 0 <= totals["files_on_disk"] <= totals["files"]
    assert sum(item["files"] for item in data["productions"]) == totals["files"]
    page = client.get("/dataset", query_string=query).get_data(as_text=True)
    for suffix in ("lfns.txt", "files.csv", "files.json", "files.py"):
        assert f'href="/dataset/{suffix}?' in page
    assert data["files"][0]["lfn"].replace("/", "/<wbr>") in page  # may wrap after a slash


def test_dataset_files_carry_their_copies(client: FlaskClient) -> None:
    data = client.get("/api/v1/dataset", query_string=first_dataset(client)).get_json()
    for item in data["files"]:
        location = item["location"]
        assert location is None or location["lfn"] == item["lfn"]
    assert any(item["location"] and item["location"]["on_tape"] for item in data["files"])


def test_page_locations_are_the_bk_ls_lines_of_its_files(client: FlaskClient) -> None:
    """The locations come from the page's ``replicas_of`` call; ``iter_listing`` (what
    ``bk ls`` prints) must say the same for each file."""
    from bookkeeping.interface import Comparison, ListingQuery, Logical
    from webui.plain import plain
    from webui.state import reader

    query = {**largest_dataset(client), "per_page": 1000}
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    lfns = tuple(item["lfn"] for item in data["files"])
    where = Logical("and", (Comparison("lfn", "in", lfns),))
    with client.application.app_context():
        listed = reader().iter_listing(ListingQuery(query["filetype"], where))
        expected = {line.lfn: plain(line) for line in listed}
    assert {item["lfn"]: item["location"] for item in data["files"]} == expected
    assert any(item["location"]["recalled"] for item in data["files"])
    assert any(item["location"]["on_disk"] for item in data["files"])


def test_paging_visits_every_file_once(client: FlaskClient) -> None:
    query = largest_dataset(client)
    first = client.get("/api/v1/dataset", query_string={**query, "per_page": 7}).get_json()
    total, pages = first["totals"]["files"], first["paging"]["pages"]
    assert pages == -(-total // 7) and pages > 1
    seen = []
    for page in range(1, pages + 1):
        data = client.get(
            "/api/v1/dataset", query_string={**query, "per_page": 7, "page": page}
        ).get_json()
        seen += [item["file_id"] for item in data["files"]]
    assert len(seen) == len(set(seen)) == total


def test_sorting_by_size_descending(client: FlaskClient) -> None:
    query = {**largest_dataset(client), "sort": "size", "order": "desc", "per_page": 1000}
    files = client.get("/api/v1/dataset", query_string=query).get_json()["files"]
    sizes = [item["size"] for item in files]
    assert sizes == sorted(sizes, reverse=True)


def test_pager_links_keep_sort_and_page_size(client: FlaskClient) -> None:
    query = {**largest_dataset(client), "sort": "events", "per_page": 5, "page": 2}
    page = client.get("/dataset", query_string=query).get_data(as_text=True)
    assert 'rel="prev"' in page and 'rel="next"' in page
    assert "page=3" in page and "sort=events" in page and "per_page=5" in page
    assert "Page 2 of" in page


def test_production_filter_narrows_the_dataset(client: FlaskClient) -> None:
    query = largest_dataset(client)
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    production = data["productions"][0]
    narrowed = client.get(
        "/api/v1/dataset", query_string={**query, "production": production["value"]}
    ).get_json()
    assert narrowed["totals"]["files"] == production["files"]
    assert {item["production"] for item in narrowed["files"]} == {production["value"]}


def test_dataset_shows_the_sites_of_each_file_and_a_summary_per_site(
    client: FlaskClient,
) -> None:
    query = {**largest_dataset(client), "per_page": 1000}
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    expected: dict[str, list[int]] = {}
    for item in data["files"]:
        replicas = client.get(f"/api/v1/file/{item['file_id']}").get_json()["replicas"]
        sites = sorted({r["site"] for r in replicas if r["status"] == "available"})
        assert item["sites"] == sites
        for site in sites:
            expected.setdefault(site, [0, 0])
            expected[site][0] += 1
            expected[site][1] += item["size"]
    summary = data["site_summary"]
    assert summary["computed"] and len(summary["sites"]) > 1
    assert {s["site"]: [s["files"], s["bytes"]] for s in summary["sites"]} == expected
    page = client.get("/dataset", query_string=query).text
    assert '<h2 id="sites-title">At each site</h2>' in page
    for site in summary["sites"]:
        assert f"<tr><td>{site['site']}</td>" in page


def test_site_summary_is_the_storage_share_sites_of_the_filtered_dataset(
    client: FlaskClient,
) -> None:
    """The summary comes from ``storage_share`` (no second read of the dataset): with a
    filter it sums exactly the kept files' available copies, counted file by file here."""
    dataset = largest_dataset(client)
    whole = client.get("/api/v1/dataset", query_string={**dataset, "per_page": 1000}).get_json()
    sizes = sorted(item["size"] for item in whole["files"])
    query = {**dataset, "per_page": 1000, "size_min": sizes[len(sizes) // 4]}
    data = client.get("/api/v1/dataset", query_string=query).get_json()
    assert data["totals"]["files"] == len(data["files"])  # one page holds them all
    assert 0 < len(data["files"]) < len(whole["files"])  # the filter matters
    expected: dict[str, list[int]] = {}
    for item in data["files"]:
        for site in item["sites"]:
            expected.setdefault(site, [0, 0])
            expected[site][0] += 1
            expected[site][1] += item["size"]
    summary = data["site_summary"]
    assert summary["computed"]
    assert {s["site"]: [s["files"], s["bytes"]] for s in summary["sites"]} == expected
    assert summary["sites"] == data["storage_share"]["sites"]
