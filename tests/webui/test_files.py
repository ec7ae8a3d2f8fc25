"""The file page and the search."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webui.conftest import first_dataset


def _some_file(client: FlaskClient, index: int = 0) -> dict:
    data = client.get("/api/v1/dataset", query_string=first_dataset(client, index)).get_json()
    return data["files"][0]


def test_file_page_has_metadata_parameters_job_replicas(client: FlaskClient) -> None:
    record = _some_file(client)
    data = client.get(f"/api/v1/file/{record['file_id']}").get_json()
    assert data["file"]["lfn"] == record["lfn"]
    names = {p["name"] for p in data["parameters"]}
    assert {"GUID", "Size", "EventStat"} <= names
    assert data["job"]["job_id"] == record["job_id"]
    assert {p["name"] for p in data["job_parameters"]} >= {"ProgramName", "ProgramVersion"}
    assert any(r["storage_class"] == "tape" for r in data["replicas"])
    page = client.get(f"/file/{record['file_id']}").get_data(as_text=True)
    shown_lfn = record["lfn"].replace("/", "/<wbr>")  # it may wrap after its slashes
    assert shown_lfn in page and record["guid"] in page and "Replicas" in page


def test_file_page_links_ancestors_and_descendants(client: FlaskClient) -> None:
    raw = _some_file(client)  # first dataset is RAW: it has descendants
    data = client.get(f"/api/v1/file/{raw['file_id']}").get_json()
    assert data["descendants"] and not data["ancestors"]
    child = data["descendants"][0]
    back = client.get(f"/api/v1/file/{child['file_id']}").get_json()
    assert raw["file_id"] in [a["file_id"] for a in back["ancestors"]]
    page = client.get(f"/file/{raw['file_id']}").get_data(as_text=True)
    assert f'href="/file/{child["file_id"]}"' in page


def test_search_by_lfn_substring_guid_production_and_run(client: FlaskClient) -> None:
    record = _some_file(client)
    by_lfn = client.get("/api/v1/search", query_string={"q": record["lfn"][-20:]}).get_json()
    assert record["file_id"] in [f["file_id"] for f in by_lfn["files"]]
    by_guid = client.get("/api/v1/search", query_string={"q": record["guid"].upper()}).get_json()
    assert [f["file_id"] for f in by_guid["files"]] == [record["file_id"]]
    by_production = client.get(
        "/api/v1/search", query_string={"q": f"production:{record['production']}"}
    ).get_json()
    assert {f["production"] for f in by_production["files"]} == {record["production"]}
    by_run = client.get("/api/v1/search", query_string={"q": str(record["run"])}).get_json()
    assert record["file_id"] in [f["file_id"] for f in by_run["files"]]
    assert {"run": record["run"]} in by_run["criteria"]


def test_search_results_are_capped_and_flagged(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/v1/search", query_string={"q": "/lhcb/"}).get_json()
    assert len(data["files"]) == app.config["SEARCH_LIMIT"]
    assert data["truncated"] is True
    lfns = [f["lfn"] for f in data["files"]]
    assert lfns == sorted(lfns)


def test_empty_search_shows_the_form(client: FlaskClient) -> None:
    assert client.get("/api/v1/search").get_json()["files"] == []
    page = client.get("/search").get_data(as_text=True)
    assert '<label for="q">' in page


def test_search_page_lists_links_to_files(client: FlaskClient) -> None:
    record = _some_file(client)
    page = client.get("/search", query_string={"q": record["guid"]}).get_data(as_text=True)
    assert f'href="/file/{record["file_id"]}"' in page
    assert "1 file for" in page
