"""The query language through the engine: generated columns, joins, permissions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookkeeping.amga_adapter.catalogue import CatalogueSession
from bookkeeping.amga_adapter.errors import NoSuchAttribute, NoSuchDirectory
from bookkeeping.amga_adapter.query import QuerySyntaxError


@pytest.fixture
def bk(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/jobs")
    root.addattr("/jobs", "JOB_ID", "int")
    root.addattr("/jobs", "CONFIGNAME", "varchar(128)")
    root.createdir("/files")
    root.addattr("/files", "JOB_ID", "int")
    root.addattr("/files", "Size", "bigint")
    root.addattr("/files", "Group", "varchar(16)")
    root.addentries(
        "/jobs",
        [("j1", {"JOB_ID": 1, "CONFIGNAME": "MC"}), ("j2", {"JOB_ID": 2, "CONFIGNAME": "Data"})],
    )
    root.addentries(
        "/files",
        [
            ("f1", {"JOB_ID": 1, "Size": 100, "Group": "a"}),
            ("f2", {"JOB_ID": 1, "Size": 300, "Group": "b"}),
            ("f3", {"JOB_ID": 2, "Size": 500, "Group": "a"}),
        ],
    )
    return root


def test_find_with_a_condition_on_a_reserved_word_attribute(bk: CatalogueSession) -> None:
    assert list(bk.find("/files", 'Group="a" and Size>200')) == ["/files/f3"]
    assert sorted(bk.find("/files/f*", "")) == ["/files/f1", "/files/f2", "/files/f3"]
    assert list(bk.find("/files/f?", "Size<200")) == ["/files/f1"]


def test_selectattr_joins_two_directories(bk: CatalogueSession) -> None:
    rows = list(
        bk.selectattr(
            ["/files:FILE", "/jobs:CONFIGNAME"],
            '/jobs:JOB_ID=/files:JOB_ID and /jobs:CONFIGNAME="MC" order by /files:FILE',
        )
    )
    assert rows == [("f1", "MC"), ("f2", "MC")]


def test_selectattr_aggregates_and_modifiers(bk: CatalogueSession) -> None:
    ((count, total),) = bk.selectattr(["count(/files:FILE)", "sum(/files:Size)"], "")
    assert (count, Decimal(total)) == (3, Decimal(900))
    assert list(bk.selectattr(["/files:FILE"], "order by /files:Size desc limit 1")) == [("f3",)]


def test_select_query_returns_dicts(bk: CatalogueSession) -> None:
    bk.cd("/files")
    assert list(bk.select_query(["FILE", "Size"], "Size=300")) == [{"FILE": "f2", "Size": 300}]


def test_updateattr_with_an_expression(bk: CatalogueSession) -> None:
    assert bk.updateattr("/files", [("Size", "Size+1")], 'Group="a"') == 2
    assert list(bk.getattr("/files/*", ["Size"])) == [("f1", [101]), ("f2", [300]), ("f3", [501])]
    assert bk.updateattr("/files/f2", [("Size", "0")], "") == 1


def test_a_syntax_error_reports_its_position(bk: CatalogueSession) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        list(bk.find("/files", "Size > > 3"))
    assert error.value.position == 7


def test_unknown_directories_and_attributes_in_queries(bk: CatalogueSession) -> None:
    with pytest.raises(NoSuchAttribute):
        list(bk.selectattr(["/files:Nope"], ""))
    with pytest.raises(NoSuchDirectory):
        list(bk.selectattr(["/nowhere:x"], ""))


HOSTILE_CONDITIONS = [
    'Group="a\'; DROP TABLE cat_users; --"',
    "Group='x\" or 1=1 --'",
    'Group="/* */" or Group="--"',
    'Group="\\u0000"',
    'Group="' + "x" * 10_000 + '"',
    "Size=1; DELETE FROM cat_users",
    'Group="Ünï ✓"',
]


def test_hostile_conditions_never_inject(bk: CatalogueSession) -> None:
    for condition in HOSTILE_CONDITIONS:
        try:
            assert list(bk.find("/files", condition)) == []
        except QuerySyntaxError:
            pass
    assert sorted(bk.find("/files", "")) == ["/files/f1", "/files/f2", "/files/f3"]
    assert bk.catalogue.list_users("root")
