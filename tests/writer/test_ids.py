"""Ids in blocks: counters that never hand out an id twice, start above what is recorded
(databases written before them keep working), and file types created once under races."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping import migrate
from bookkeeping.amga_adapter.bookkeeping import CatalogueWriter
from bookkeeping.amga_adapter.bookkeeping import ids as catalogue_ids
from bookkeeping.amga_adapter.bookkeeping.ids import known_file_types
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import ConstraintViolation
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import ScratchDatabase
from bookkeeping.warehouse import ids
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import dirac_jobs, files, id_counters, job_params, jobs
from bookkeeping.writer.model import RecordStatus
from tests.catalogue_bookkeeping.conftest import add_root

REPORTS = list(generate_reports(40, seed=3))


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_warehouse_blocks_follow_one_another_and_never_overlap(engine: Engine) -> None:
    assert ids.reserve(engine, {ids.JOBS: 3, ids.FILES: 0}) == {ids.JOBS: 1}
    assert ids.reserve(engine, {ids.JOBS: 2, ids.FILES: 5}) == {ids.JOBS: 4, ids.FILES: 1}
    assert ids.reserve(engine, {}) == {}
    taken: list[int] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        for _ in range(10):
            first = ids.reserve(engine, {ids.JOBS: index + 1})[ids.JOBS]
            with lock:
                taken.extend(range(first, first + index + 1))

    _in_threads(6, work)
    assert sorted(taken) == list(range(6, 6 + 10 * (1 + 2 + 3 + 4 + 5 + 6)))


def test_a_new_counter_starts_above_the_largest_recorded_id(engine: Engine) -> None:
    when = datetime.datetime(2012, 5, 1)
    with engine.begin() as connection:
        connection.execute(
            jobs.insert(),
            [{"job_id": 41, "configname": "c", "configversion": "v", "jobdate": when}],
        )
    assert ids.reserve(engine, {ids.JOBS: 1, ids.FILES: 2}) == {ids.JOBS: 42, ids.FILES: 1}


def test_racing_writers_create_a_new_file_type_once(engine: Engine) -> None:
    keys = [("DST", "ROOT"), ("MDST", "ROOT"), ("RAW", "MDF")]
    seen: list[dict] = []

    def work(index: int) -> None:
        # Each thread wants all three, in its own order.
        wanted = keys[index % 3 :] + keys[: index % 3]
        seen.append(ids.ensure_file_types(engine, wanted, {}))

    _in_threads(8, work)
    with engine.connect() as connection:
        stored = ids.known_file_types(connection)
    assert sorted(stored.values()) == [1, 2, 3]
    assert all(found == stored for found in seen)


def test_catalogue_file_types_are_unique_and_created_once(engine: Engine) -> None:
    add_root(engine)
    CatalogueWriter(engine).record_batch(REPORTS[:1])  # the layout, with its constraints
    session = Catalogue(engine).session("root")
    keys = [("NEW", "1"), ("OTHER", "2")]

    def work(index: int) -> None:
        own = Catalogue(engine).session("root")
        try:
            catalogue_ids.ensure_file_types(own, keys[index % 2 :] + keys[: index % 2], {})
        finally:
            own.close()

    _in_threads(6, work)
    stored = known_file_types(session)
    assert len({stored[key] for key in keys}) == 2
    with pytest.raises(ConstraintViolation):  # the database refuses a second (Name, Version)
        session.addentry("/typeParams/999", {"TYPE_ID": 999, "Name": "NEW", "Version": "1"})
    session.close()


def test_the_database_refuses_a_dirac_job_recorded_twice(engine: Engine) -> None:
    writer = WarehouseWriter(engine)
    first = writer.record(REPORTS[0])
    assert first.status is RecordStatus.RECORDED
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            dirac_jobs.insert().values(dirac_job_id=REPORTS[0].dirac_job_id, job_id=first.job_id)
        )


def test_catalogue_ids_continue_above_a_bookkeeping_written_without_sequences(
    engine: Engine,
) -> None:
    add_root(engine)
    assert all(r.ok for r in CatalogueWriter(engine).record_batch(REPORTS[:10]))
    session = Catalogue(engine).session("root")
    for path in (catalogue_ids.JOB_SEQUENCE, catalogue_ids.FILE_SEQUENCE):
        session.sequence_remove(path)  # as a bookkeeping from before the sequences
    session.close()
    results = CatalogueWriter(engine).record_batch(REPORTS[10:12])
    assert [r.job_id for r in results] == [11, 12]


def test_upgrading_a_warehouse_initialises_counters_and_dirac_jobs(
    backend: ScratchDatabase,
) -> None:
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "0004")
        meta = sa.MetaData()
        old_jobs = sa.Table("jobs", meta, autoload_with=engine)
        old_params = sa.Table("jobParams", meta, autoload_with=engine)
        when = datetime.datetime(2012, 5, 1)
        with engine.begin() as connection:
            connection.execute(
                old_jobs.insert(),
                [
                    {"job_id": n, "configname": "c", "configversion": "v", "jobdate": when}
                    for n in (3, 7)
                ],
            )
            connection.execute(
                old_params.insert(),
                [
                    {"job_id": 3, "name": "DIRAC_JobID", "value": "555"},
                    {"job_id": 7, "name": "DIRAC_JobID", "value": "556"},
                    {"job_id": 7, "name": "Production", "value": "12"},
                ],
            )
        migrate.upgrade(engine, "head")
        with engine.connect() as connection:
            counters = dict(tuple(row) for row in connection.execute(sa.select(id_counters)))
            recorded = {tuple(row) for row in connection.execute(sa.select(dirac_jobs))}
        assert counters == {"jobs": 8, "files": 1, "file_types": 1}
        assert recorded == {(555, 3), (556, 7)}
        report = REPORTS[0]
        writer = WarehouseWriter(engine)
        assert writer.record(report).job_id == 8
        again = writer.record(dataclasses.replace(report, dirac_job_id=555))
        assert again.status is RecordStatus.DUPLICATE
        with engine.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(job_params)) > 3
            assert connection.scalar(sa.select(sa.func.max(files.c.file_id))) == len(
                report.output_files
            )
    finally:
        engine.dispose()


def test_block_reservations_compile_for_oracle() -> None:
    """No Oracle server here: the statements that reserve blocks compile for its dialect
    (counter row and catalogue sequence, with RETURNING as ``update_returning`` allows)."""
    from sqlalchemy.dialects import oracle

    from bookkeeping.amga_adapter.engine import system_tables as st

    dialect = oracle.dialect()
    assert dialect.update_returning
    counter = (
        id_counters.update()
        .where(id_counters.c.name == "jobs")
        .values(next_value=id_counters.c.next_value + 5)
        .returning(id_counters.c.next_value)
    )
    sequence = (
        st.sequences.update()
        .where(st.sequences.c.id == 1)
        .values(next_value=st.sequences.c.next_value + st.sequences.c.increment * 5)
        .returning(st.sequences.c.next_value, st.sequences.c.increment)
    )
    for statement in (counter, sequence):
        sql = str(statement.compile(dialect=dialect))
        assert "UPDATE" in sql and "RETURNING" in sql
