"""One populated database per back-end, shared by the read-only tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import RecordStatus
from tests.conftest import BACKENDS
from tests.warehouse.expected import Expected

GENERATED_FILES = 400


@dataclass(frozen=True)
class Populated:
    backend: str
    url: str
    bookkeeping: WarehouseBookkeeping
    expected: Expected


@pytest.fixture(scope="module", params=BACKENDS)
def populated(request: pytest.FixtureRequest) -> Iterator[Populated]:
    reports = list(generate_reports(GENERATED_FILES, seed=7))
    with scratch_database(request.param, server_url(request.param)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        try:
            results = WarehouseWriter(engine).record_batch(reports)
            assert {r.status for r in results} == {RecordStatus.RECORDED}
            yield Populated(
                request.param, database.url, WarehouseBookkeeping(engine), Expected(reports)
            )
        finally:
            engine.dispose()
