"""The kls-style listing of the warehouse against answers computed from the reports."""

from __future__ import annotations

import pytest

from bookkeeping.interface import Comparison, Condition, ListingQuery, Logical, Not
from tests.warehouse.conftest import Populated

CONDITIONS: list[Condition | None] = [
    None,
    Comparison("size", ">", (2_000_000_000,)),
    Logical("and", (Comparison("events", ">=", (5000,)), Comparison("quality", "=", ("OK",)))),
    Logical("or", (Comparison("run", "<", (111_500,)), Not(Comparison("config", "=", ("MC",))))),
    Not(Comparison("run", "!=", (0,))),
    Comparison("processingpass", "in", ("Real Data", "Sim08a")),
    Comparison("configversion", "=", ("Collision12",)),
    Comparison("eventtype", "in", (90000000, 11102003)),
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=str)
@pytest.mark.parametrize("disk_only", [False, True])
def test_listing_matches_the_reports(
    populated: Populated, condition: Condition | None, disk_only: bool
) -> None:
    for file_type in ("RAW", "SDST", "DST", "SIM", "ALLSTREAMS.DST"):
        query = ListingQuery(file_type, condition, disk_only)
        expected = populated.expected.listing(query)
        assert list(populated.bookkeeping.iter_listing(query)) == expected
        assert populated.bookkeeping.count_listing(query) == len(expected)


def test_listing_by_production_and_lfn(populated: Populated) -> None:
    record = populated.expected.records[5]
    query = ListingQuery(
        record.file_type,
        Logical(
            "and",
            (
                Comparison("production", "=", (record.production,)),
                Comparison("lfn", "=", (record.lfn,)),
            ),
        ),
    )
    assert [line.lfn for line in populated.bookkeeping.iter_listing(query)] == [record.lfn]
