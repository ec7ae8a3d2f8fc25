"""Downloads of a dataset's file list, and the SVG charts."""

from __future__ import annotations

import ast
import io
import json

import pandas as pd
import pytest
from flask.testing import FlaskClient

from tests.webui.conftest import largest_dataset


@pytest.fixture(scope="module")
def dataset(app) -> tuple[dict, list[str]]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    query = largest_dataset(client)
    data = client.get("/api/v1/dataset", query_string={**query, "per_page": 1000}).get_json()
    return query, sorted(item["lfn"] for item in data["files"])


def test_lfn_list_is_every_lfn_one_per_line(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, lfns = dataset
    response = client.get("/dataset/lfns.txt", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "attachment; filename=" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines() == lfns


def test_csv_reads_back_with_pandas(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, lfns = dataset
    body = client.get("/dataset/files.csv", query_string=query).get_data(as_text=True)
    frame = pd.read_csv(io.StringIO(body))
    assert list(frame["lfn"]) == lfns
    assert {"guid", "size", "events", "checksum", "run"} <= set(frame.columns)


def test_json_download_is_one_array_of_files(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, lfns = dataset
    data = json.loads(client.get("/dataset/files.json", query_string=query).get_data())
    assert [item["lfn"] for item in data] == lfns


def test_python_snippet_is_valid_python_listing_the_inputs(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, lfns = dataset
    source = client.get("/dataset/files.py", query_string=query).get_data(as_text=True)
    namespace: dict = {}
    exec(compile(ast.parse(source), "snippet", "exec"), namespace)
    assert namespace["input_files"] == lfns


def test_download_of_an_incomplete_path_is_refused(client: FlaskClient) -> None:
    response = client.get("/dataset/lfns.txt", query_string={"configname": "LHCb"})
    assert response.status_code == 400
    assert client.get("/dataset/secrets.txt").status_code == 404


def test_charts_are_svg_with_one_bar_per_value(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, _ = dataset
    productions = client.get("/api/v1/dataset", query_string=query).get_json()["productions"]
    svg = client.get("/chart.svg", query_string={**query, "by": "production", "metric": "bytes"})
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert text.startswith("<svg") and "Bytes per production" in text
    assert text.count("<rect") == len(productions)
    by_type = client.get("/chart.svg", query_string={**query, "by": "filetype"})
    assert by_type.status_code == 200 and "Events per file type" in by_type.get_data(as_text=True)


def test_chart_parameters_are_checked(client: FlaskClient) -> None:
    assert client.get("/chart.svg", query_string={"metric": "cpu"}).status_code == 400
    assert client.get("/chart.svg", query_string={"by": "filetype"}).status_code == 400
    whole = client.get("/chart.svg", query_string={"by": "production"})
    assert whole.status_code == 200
