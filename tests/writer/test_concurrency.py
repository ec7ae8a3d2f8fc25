"""Writers running at the same time: every report recorded once, ids never shared."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.generator import generate_reports
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import files, jobs
from bookkeeping.writer.model import RecordResult, RecordStatus
from bookkeeping.writer.service import record_reports

# First-step reports only: they read no input, so any order of recording is valid.
INDEPENDENT = [r for r in generate_reports(400, seed=8) if not r.input_files][:60]


def test_concurrent_writers_record_each_report_once(engine: Engine) -> None:
    streams = [INDEPENDENT[0::2], INDEPENDENT[1::2], INDEPENDENT[0::2]]  # the last resends
    results: list[list[RecordResult]] = [[] for _ in streams]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            writer = WarehouseWriter(engine)
            results[index].extend(record_reports(writer, streams[index], batch_size=3))
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    statuses = [r.status for stream in results for r in stream]
    assert RecordStatus.FAILED not in statuses
    assert statuses.count(RecordStatus.RECORDED) == len(INDEPENDENT)
    assert statuses.count(RecordStatus.DUPLICATE) == len(streams[2])
    with engine.connect() as connection:
        job_ids = list(connection.scalars(sa.select(jobs.c.job_id).order_by(jobs.c.job_id)))
        file_count = connection.scalar(sa.select(sa.func.count()).select_from(files))
    assert job_ids == list(range(1, len(INDEPENDENT) + 1))
    assert file_count == sum(len(r.output_files) for r in INDEPENDENT)
