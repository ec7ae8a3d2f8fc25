"""Writers running at the same time: every report recorded exactly once, no report failed,
ids never shared, and (catalogue) the views still what a rebuild would make."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping.views.rebuild import check
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bench.writes import split_by_chain
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, DatasetPath
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import dirac_jobs, files, jobs
from bookkeeping.writer.model import JobReport, RecordResult, RecordStatus
from bookkeeping.writer.service import record_reports
from tests.catalogue_bookkeeping.conftest import add_root

WRITERS = 16
REPORTS = list(generate_reports(160, seed=8))
# Eight shares of chains (no share needs another's files); every share is sent by two
# writers at once, one report at a time or in small batches: each report twice, at the
# same moment.
SHARES = split_by_chain(REPORTS, WRITERS // 2)


def _writer(engine: Engine, implementation: str) -> BookkeepingWriter:
    if implementation == "warehouse":
        return WarehouseWriter(engine)
    return CatalogueWriter(engine)


def _reader(engine: Engine, implementation: str) -> Bookkeeping:
    if implementation == "warehouse":
        return WarehouseBookkeeping(engine)
    return CatalogueBookkeeping(engine)


def _write_concurrently(
    engine: Engine, implementation: str, streams: list[list[JobReport]]
) -> list[RecordResult]:
    results: list[list[RecordResult]] = [[] for _ in streams]
    errors: list[BaseException] = []
    start = threading.Barrier(len(streams))

    def run(index: int) -> None:
        try:
            writer = _writer(engine, implementation)  # one per thread, as in a server
            start.wait()
            batch_size = 1 if index % 2 else 4
            results[index].extend(record_reports(writer, streams[index], batch_size=batch_size))
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    return [result for stream in results for result in stream]


@pytest.mark.parametrize("implementation", ["warehouse", "catalogue"])
def test_sixteen_writers_record_every_report_exactly_once(
    engine: Engine, implementation: str
) -> None:
    add_root(engine)
    streams = [share for share in SHARES for _ in range(2)]
    results = _write_concurrently(engine, implementation, streams)

    failures = [r.error for r in results if r.status is RecordStatus.FAILED]
    assert failures == []
    statuses = Counter(r.status for r in results)
    assert statuses[RecordStatus.RECORDED] == len(REPORTS)
    assert statuses[RecordStatus.DUPLICATE] == len(REPORTS)
    job_ids = [r.job_id for r in results if r.status is RecordStatus.RECORDED]
    assert len(set(job_ids)) == len(REPORTS)

    page = _reader(engine, implementation).files(DatasetPath(), limit=None)
    expected_lfns = sorted(f.lfn for r in REPORTS for f in r.output_files)
    assert sorted(record.lfn for record in page.files) == expected_lfns
    assert len({record.file_id for record in page.files}) == len(expected_lfns)
    # Each file belongs to the job its report was recorded as.
    job_of_dirac = {r.dirac_job_id: r for r in REPORTS}
    reader = _reader(engine, implementation)
    for record in page.files[:40]:
        job = reader.job(record.job_id)
        assert job is not None
        report = job_of_dirac[job.dirac_job_id]
        assert record.lfn in {f.lfn for f in report.output_files}

    if implementation == "warehouse":
        with engine.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(jobs)) == len(REPORTS)
            assert connection.scalar(sa.select(sa.func.count()).select_from(dirac_jobs)) == len(
                REPORTS
            )
            assert connection.scalar(sa.select(sa.func.count()).select_from(files)) == len(
                expected_lfns
            )
    else:
        session = Catalogue(engine).session("root")
        try:
            assert check(session) == []
        finally:
            session.close()
