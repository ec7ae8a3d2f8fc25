"""``bk ls`` answers alike from both implementations: many random where-clauses (every
listing attribute, every operator, nested and/or/not, values the data has and values it
lacks, missing runs and quality flags) over one recorded bookkeeping per back-end."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, ListingQuery
from tests.catalogue_bookkeeping.conftest import fresh_pair
from tests.catalogue_bookkeeping.test_equivalence import _condition, listing_values
from tests.conftest import BACKENDS

QUERIES_PER_EXAMPLE = 25


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_listings_agree_for_random_where_clauses(
    backend: str, data: st.DataObject, seed: int
) -> None:
    reports = list(generate_reports(60, seed))
    with fresh_pair(backend) as pair:
        pair.warehouse_writer.record_batch(reports)
        pair.catalogue_writer.record_batch(reports)
        records = pair.warehouse.files(DatasetPath()).files
        values = listing_values(records)
        for pool in values.values():  # and values that no file has
            pool.append(max(pool) + 1 if isinstance(pool[0], int) else "~absent")
        file_types = sorted({record.file_type for record in records})
        for _ in range(QUERIES_PER_EXAMPLE):
            query = ListingQuery(
                data.draw(st.sampled_from(file_types), "file type"),
                data.draw(st.none() | _condition(values), "where"),
                data.draw(st.booleans(), "disk only"),
            )
            expected = list(pair.warehouse.iter_listing(query))
            assert list(pair.catalogue.iter_listing(query)) == expected, query
            assert pair.catalogue.count_listing(query) == len(expected), query
