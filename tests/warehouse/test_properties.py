"""Property: for any generated production, the warehouse answers what the reports say."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Level, ListingQuery
from bookkeeping.schema import metadata
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES
from bookkeeping.writer.service import record_reports
from tests.warehouse.expected import Expected


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.integers(min_value=1, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    batch_size=st.integers(min_value=1, max_value=40),
)
def test_random_productions_are_answered_as_recorded(
    engine: Engine, files: int, seed: int, batch_size: int
) -> None:
    tables = list(WAREHOUSE_TABLES)
    metadata.drop_all(engine, tables=tables)
    metadata.create_all(engine, tables=tables)
    reports = list(generate_reports(files, seed))
    list(record_reports(WarehouseWriter(engine), reports, batch_size=batch_size))
    expected = Expected(reports)
    reader = WarehouseBookkeeping(engine)
    for level in Level:
        assert reader.level_values(level, DatasetPath()) == expected.level_values(
            level, DatasetPath()
        )
    page = reader.files(DatasetPath(), limit=None)
    assert list(page.files) == expected.dataset(DatasetPath())
    for record in page.files:
        assert reader.ancestors(record.file_id, 3) == expected.ancestors(record.file_id, 3)
        assert reader.replicas(record.file_id) == expected.replicas(record.file_id)
    for file_type in {record.file_type for record in page.files}:
        query = ListingQuery(file_type, disk_only=seed % 2 == 0)
        assert list(reader.iter_listing(query)) == expected.listing(query)
