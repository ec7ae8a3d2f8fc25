"""The catalogue browser sorts entries by the attribute's declared type, in the database, on
every back-end: numbers as numbers (9 before 10), times by time, text as text; long values
are elided with the full value in the cell's title."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from flask import Flask

# Values whose text order differs from their typed order: as text "10" < "9", "-2" < "-10"
# is false, and a day-first date would sort by day.
ENTRIES = {
    "a": {"Events": 10, "Ratio": 0.5, "Taken": dt.datetime(2012, 3, 1, 8, 0), "Note": "z"},
    "b": {"Events": 9, "Ratio": 12.25, "Taken": dt.datetime(2011, 12, 31, 23, 59), "Note": "y"},
    "c": {"Events": -2, "Ratio": -0.75, "Taken": dt.datetime(2012, 10, 5, 0, 0), "Note": "x"},
    "d": {"Events": 100, "Ratio": 3.0, "Taken": dt.datetime(2012, 2, 9, 12, 0), "Note": "w"},
    "e": {"Events": -10, "Ratio": 1e-3, "Taken": dt.datetime(2010, 1, 1, 0, 0), "Note": "v" * 80},
}
TYPES = {"Events": "int", "Ratio": "double", "Taken": "timestamp", "Note": "varchar(200)"}


@pytest.fixture(scope="module")
def typed(catalogue_server_app: Flask) -> str:
    path = "/typed"
    root = catalogue_server_app.extensions["bookkeeping"].catalogue.session("root")
    try:
        root.createdir(path)
        for name, type_ in TYPES.items():
            root.addattr(path, name, type_)
        root.addentries(path, ENTRIES.items())
    finally:
        root.close()
    return path


@pytest.mark.parametrize("attribute", ["Events", "Ratio", "Taken", "Note"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_entries_sort_by_the_declared_type(
    catalogue_server_app: Flask, typed: str, attribute: str, order: str
) -> None:
    client = catalogue_server_app.test_client()
    data = client.get(
        "/api/v1/catalogue/", query_string={"path": typed, "sort": attribute, "order": order}
    ).get_json()
    assert data["sort"] == {"by": attribute, "order": order}
    names = [entry["name"] for entry in data["entries"]]
    expected = sorted(ENTRIES, key=lambda n: ENTRIES[n][attribute], reverse=order == "desc")  # type: ignore[arg-type,return-value]
    assert names == expected
    # The values came back whole and in the entry's row.
    index = list(TYPES).index(attribute)
    for entry in data["entries"]:
        assert str(entry["values"][index])[:10] == str(ENTRIES[entry["name"]][attribute])[:10]


def test_headings_link_to_the_other_order_and_long_values_carry_a_title(
    catalogue_server_app: Flask, typed: str
) -> None:
    client = catalogue_server_app.test_client()
    page = unescape(client.get(f"/catalogue/?path={typed}&sort=Events").get_data(as_text=True))
    heading = re.search(
        r'<th scope="col" class="num" aria-sort="ascending"><a[^>]*href="([^"]+)"', page
    )
    assert heading is not None and "sort=Events" in heading[1] and "order=desc" in heading[1]
    assert page.count('aria-sort="none"') == len(TYPES)  # name and the three others
    assert f'title="{"v" * 80}"' in page
    # The pager keeps the order.
    assert (
        client.get(f"/api/v1/catalogue/?path={typed}&sort=Events&page=2").get_json()["entries"]
        == []
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "Nope"}, "parameter 'sort': is not an attribute of this directory"),
        ({"sort": "Events", "order": "sideways"}, "parameter 'order': must be asc or desc"),
    ],
)
def test_a_bad_sort_is_a_400_naming_it(
    catalogue_server_app: Flask, typed: str, query: dict[str, str], message: str
) -> None:
    response = catalogue_server_app.test_client().get(
        "/api/v1/catalogue/", query_string={"path": typed, **query}
    )
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(message)
