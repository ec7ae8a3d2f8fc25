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


@pytest.mark.parametrize("suffix", ["lfns.txt", "files.csv", "files.json", "files.py"])
def test_download_of_an_unknown_dataset_is_not_found(
    client: FlaskClient,
    dataset,
    suffix: str,  # type: ignore[no-untyped-def]
) -> None:
    query, _ = dataset
    for unknown in ({**query, "filetype": "NOPE"}, {**query, "production": "1"}):
        response = client.get(f"/dataset/{suffix}", query_string=unknown)
        assert response.status_code == 404, unknown
        assert "Content-Disposition" not in response.headers
        assert "no files in this dataset" in response.get_data(as_text=True)
        twin = client.get("/api/v1/dataset", query_string=unknown)
        assert twin.status_code == 404  # as the dataset page answers


def test_charts_scale_to_their_box(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, _ = dataset
    svg = client.get("/chart.svg", query_string={**query, "by": "production"}).text
    root = svg.split(">", 1)[0]
    assert 'width="100%"' in root and 'viewBox="0 0 600 ' in root and "height=" not in root


def test_narrow_charts_put_labels_above_their_bars(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, _ = dataset
    args = {**query, "by": "production", "metric": "events"}
    wide = client.get("/chart.svg", query_string=args).text
    narrow = client.get("/chart.svg", query_string={**args, "layout": "narrow"}).text
    assert 'viewBox="0 0 340 ' in narrow
    productions = client.get("/api/v1/dataset", query_string=query).get_json()["productions"]
    first = str(productions[0]["value"])
    assert f'text-anchor="end">{first}</text>' in wide  # left of its bar
    assert '<text x="0" y="' in narrow and f">{first}</text>" in narrow  # above it
    assert narrow.count("<rect") == wide.count("<rect") == len(productions)
    bad = client.get("/chart.svg", query_string={**args, "layout": "tiny"})
    assert bad.status_code == 400 and "layout" in bad.text


def test_pages_offer_phones_the_narrow_charts(client: FlaskClient, dataset) -> None:  # type: ignore[no-untyped-def]
    query, _ = dataset
    page = client.get("/dataset", query_string=query).text
    assert page.count('<source media="(max-width: 40rem)" srcset="/chart.svg?layout=narrow') == 2
    assert 'width="710"' not in page
