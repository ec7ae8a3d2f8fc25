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


def test_search_results_are_paged_with_a_total(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/v1/search", query_string={"q": "/lhcb/"}).get_json()
    limit = app.config["SEARCH_LIMIT"]
    assert len(data["files"]) == limit
    group = next(g for g in data["groups"] if g["kind"] == "files")
    assert group["total"] > limit and group["exact"] and data["truncated"] is False
    assert group["pages"] == -(-group["total"] // limit)
    lfns = [f["lfn"] for f in data["files"]]
    assert lfns == sorted(lfns)
    query = {"q": "/lhcb/", "files_page": group["pages"]}
    last = client.get("/api/v1/search", query_string=query).get_json()
    rest = last["files"]
    assert len(rest) == group["total"] - limit * (group["pages"] - 1)
    assert rest[0]["lfn"] > lfns[-1]


def test_search_total_beyond_the_count_limit_is_a_lower_bound(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    small = app.test_client()
    app.config["SEARCH_COUNT_LIMIT"], saved = 5, app.config["SEARCH_COUNT_LIMIT"]
    try:
        data = small.get("/api/v1/search", query_string={"q": "/lhcb/"}).get_json()
    finally:
        app.config["SEARCH_COUNT_LIMIT"] = saved
    group = next(g for g in data["groups"] if g["kind"] == "files")
    assert group["total"] == 5 and group["exact"] is False and data["truncated"] is True


def test_empty_search_shows_the_form(client: FlaskClient) -> None:
    assert client.get("/api/v1/search").get_json()["files"] == []
    page = client.get("/search").get_data(as_text=True)
    assert '<label for="q">' in page


def test_search_page_lists_links_to_files(client: FlaskClient) -> None:
    record = _some_file(client)
    page = client.get("/search", query_string={"q": record["guid"]}).get_data(as_text=True)
    assert f'href="/file/{record["file_id"]}"' in page
    assert "Files <small>(1)</small>" in page


def test_search_finds_event_types_by_words_and_their_datasets(client: FlaskClient) -> None:
    described = [v for v in _event_types(client) if v.get("description")]
    assert described, "the generated bookkeeping describes its event types"
    target = described[0]
    word = max(target["description"].split(), key=len)
    data = client.get("/api/v1/search", query_string={"q": word}).get_json()
    group = next(g for g in data["groups"] if g["kind"] == "event_types")
    found = {item["value"]: item for item in group["results"]}
    assert target["value"] in found and group["total"] == len(group["results"])
    place = found[target["value"]]["places"][0]
    level = client.get("/api/v1/browse", query_string=place).get_json()
    assert level["level"]["name"] == "filetype" and level["values"]
    by_number = client.get("/api/v1/search", query_string={"q": str(target["value"])})
    numbers = next(g for g in by_number.get_json()["groups"] if g["kind"] == "event_types")
    assert target["value"] in [item["value"] for item in numbers["results"]]
    page = client.get("/search", query_string={"q": word}).get_data(as_text=True)
    assert "Event types <small>" in page and "/browse?" in page


def _event_types(client: FlaskClient) -> list[dict]:
    query = {k: v for k, v in first_dataset(client, 1).items()
             if k not in ("eventtype", "filetype")}  # fmt: skip
    return client.get("/api/v1/browse", query_string=query).get_json()["values"]


def test_search_finds_productions_runs_and_passes(client: FlaskClient) -> None:
    record = _some_file(client, 1)
    data = client.get("/api/v1/search", query_string={"q": str(record["production"])})
    groups = {g["kind"]: g for g in data.get_json()["groups"]}
    production = groups["productions"]["results"][0]
    assert production["value"] == record["production"]
    dataset = client.get("/api/v1/dataset", query_string=production["places"][0]).get_json()
    assert {f["production"] for f in dataset["files"]} == {record["production"]}
    if record["run"] is not None:
        runs = client.get("/api/v1/search", query_string={"q": f"run:{record['run']}"})
        run = next(g for g in runs.get_json()["groups"] if g["kind"] == "runs")
        assert run["results"][0]["run"] == record["run"] and run["results"][0]["files"] >= 1
    job = client.get(f"/api/v1/job/{record['job_id']}").get_json()["job"]
    passes = client.get("/api/v1/search", query_string={"q": job["processing_pass"]})
    group = next(g for g in passes.get_json()["groups"] if g["kind"] == "processing_passes")
    assert job["processing_pass"] in [item["value"] for item in group["results"]]
    place = group["results"][0]["places"][0]
    assert client.get("/api/v1/browse", query_string=place).status_code == 200


def test_suggestions_as_json_and_the_search_page_script(client: FlaskClient) -> None:
    word = max((v["description"] for v in _event_types(client) if v.get("description")),
               key=len).split()[0]  # fmt: skip
    data = client.get("/api/v1/suggest", query_string={"q": word}).get_json()
    assert 0 < len(data["suggestions"]) <= 10 and data["q"] == word
    assert any(s["kind"] == "event_types" for s in data["suggestions"])
    assert client.get("/api/v1/suggest").get_json()["suggestions"] == []
    response = client.get("/search", query_string={"q": word})
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert 'list="q-suggestions"' in page and "/static/search-suggest.js" in page
    with client.get("/static/search-suggest.js") as script:
        assert script.status_code == 200 and b"list.dataset.source" in script.data
    # Every other page keeps the policy without scripts.
    assert "script-src" not in client.get("/browse").headers["Content-Security-Policy"]
