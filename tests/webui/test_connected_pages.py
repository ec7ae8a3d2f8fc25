"""File ↔ dataset ↔ job ↔ production: the links of the file and job pages, followed."""

from __future__ import annotations

from html import unescape

from flask.testing import FlaskClient

from tests.webui.conftest import first_dataset


def _file_of(client: FlaskClient, index: int = 0) -> tuple[dict, dict]:
    dataset = first_dataset(client, index)
    data = client.get("/api/v1/dataset", query_string=dataset).get_json()
    return dataset, data["files"][0]


def test_file_page_links_back_to_its_dataset_and_production(client: FlaskClient) -> None:
    dataset, record = _file_of(client, 1)
    data = client.get(f"/api/v1/file/{record['file_id']}").get_json()
    assert {k: str(v) for k, v in data["path"].items()} == {k: str(v) for k, v in dataset.items()}
    # Following the dataset link lists this file; the production link keeps only its production.
    listed = client.get("/api/v1/dataset", query_string={**data["path"], "per_page": 1000})
    assert record["file_id"] in [f["file_id"] for f in listed.get_json()["files"]]
    only = client.get("/api/v1/dataset", query_string={**data["production_query"],
                                                       "per_page": 1000}).get_json()  # fmt: skip
    assert {f["production"] for f in only["files"]} == {record["production"]}
    assert record["file_id"] in [f["file_id"] for f in only["files"]]
    # Breadcrumbs: every level, the last one the file type.
    levels = (
        "configname",
        "configversion",
        "conditions",
        "processingpass",
        "eventtype",
        "filetype",
    )
    assert [c["value"] for c in data["crumbs"][1:]] == [data["path"][k] for k in levels]
    page = unescape(client.get(f"/file/{record['file_id']}").get_data(as_text=True))
    assert 'aria-label="Bookkeeping path"' in page
    assert f'href="/job/{record["job_id"]}"' in page
    assert "/dataset?" in page and f"production={record['production']}" in page


def test_job_page_has_path_production_and_outputs(client: FlaskClient) -> None:
    _dataset, record = _file_of(client, 1)
    data = client.get(f"/api/v1/job/{record['job_id']}").get_json()
    assert data["job"]["job_id"] == record["job_id"]
    assert record["file_id"] in [f["file_id"] for f in data["files"]]
    assert all(f["job_id"] == record["job_id"] for f in data["files"])
    assert data["path"]["processingpass"] == data["job"]["processing_pass"]
    assert len(data["crumbs"]) == 5  # the top and four levels
    browse = client.get("/api/v1/browse", query_string=data["production_query"]).get_json()
    assert record["event_type"] in [v["value"] for v in browse["values"]]
    page = client.get(f"/job/{record['job_id']}").get_data(as_text=True)
    assert f'href="/file/{record["file_id"]}"' in page
    assert 'aria-label="Bookkeeping path"' in page


def test_unknown_job_is_404(client: FlaskClient) -> None:
    assert client.get("/job/999999999").status_code == 404
    assert client.get("/api/v1/job/999999999").get_json()["status"] == 404
