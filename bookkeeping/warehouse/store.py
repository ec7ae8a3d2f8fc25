"""Recording job reports in the warehouse (the ``BookkeepingWriter`` of the warehouse).

A batch goes in four steps:

1. look up what the bookkeeping knows of the batch's names with a few set-based queries
   (recorded DIRAC job ids, LFNs, event types, file types) and plan it
   (``bookkeeping.writer.planning``: duplicates, conflicts, how many ids it needs);
2. create the file types it introduces (a short transaction of their own, see ``ids``);
3. reserve exactly as many job and file ids as the plan records, as blocks from the id
   counters (another short transaction, committed at once);
4. write everything with one bulk insert per table in one transaction.

Parallel writers therefore never wait for one another on a counter for longer than a
reservation, and never take the same ids. What a concurrent writer can still do between
steps 1 and 4 is record the same report (the ``diracJobs`` primary key refuses the second),
the same LFN (``files.logname`` is unique) or the same new event type: the batch is then
planned again from what is recorded now, after a short random pause, and the report
becomes a duplicate or a conflict. A batch that keeps failing is recorded one report at a
time, so one bad report never takes the rest of the batch with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bookkeeping.chunking import chunked
from bookkeeping.engines import write_transaction
from bookkeeping.retry import retrying
from bookkeeping.warehouse import changes
from bookkeeping.warehouse import ids as counters
from bookkeeping.warehouse.bulk import insert_many
from bookkeeping.warehouse.tables import (
    dirac_jobs,
    event_types,
    file_params,
    files,
    input_files,
    job_params,
    jobs,
    quality_params,
    replicas,
)
from bookkeeping.writer import batching
from bookkeeping.writer.changes import (
    AddCopy,
    ChangeCopy,
    MarkedCopies,
    RemoveCopy,
    ReplicaKey,
    ThenHook,
)
from bookkeeping.writer.errors import ReportConflict
from bookkeeping.writer.lifecycle import LifeCycleChange, LifeCycleState
from bookkeeping.writer.model import (
    FILE_PARAMETER_CHECKSUM,
    FILE_PARAMETER_EVENT_TYPE,
    FILE_PARAMETER_EVENTS,
    FILE_PARAMETER_GUID,
    FILE_PARAMETER_SIZE,
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
    JobReport,
    RecordResult,
    ReplicaSpec,
)
from bookkeeping.writer.planning import (
    AssignedReport,
    Ids,
    Known,
    Plan,
    TypeMemory,
    dirac_ids_to_confirm,
    failed,
    named,
    plan,
    wanted_names,
)

__all__ = ["WarehouseWriter", "insert_many"]

# Values per IN (...) list. Small enough that PostgreSQL probes the unique index instead of
# scanning the table: with 500 LFNs its cost model prefers a sequential scan of a 100,000-file
# table (55 ms, against under 1 ms for 200 index probes), so a batch of look-ups would grow
# with the bookkeeping.
IN_CHUNK = 200
BATCH_ATTEMPTS = 6  # whole-batch attempts when a concurrent writer got in the way
RETRIES = 6  # per-report attempts once the batch gave up
# Worth planning again: a concurrent writer's row (IntegrityError), a deadlock or a lock
# timeout (OperationalError). Anything else is the report's own problem.
_RETRYABLE = (IntegrityError, OperationalError)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RETRYABLE)


@dataclass
class _Rows:
    """Rows to insert for a batch, table by table."""

    jobs: list[dict] = field(default_factory=list)
    dirac_jobs: list[dict] = field(default_factory=list)
    job_params: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    file_params: list[dict] = field(default_factory=list)
    input_files: list[dict] = field(default_factory=list)
    replicas: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    event_types: list[dict] = field(default_factory=list)


class WarehouseWriter:
    """``BookkeepingWriter`` over the warehouse tables. Thread-safe: between calls it holds
    only the engine and the event and file types it has seen (which only grow)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.types = TypeMemory()

    def record(self, report: JobReport) -> RecordResult:
        return self.record_batch([report])[0]

    def record_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        return batching.record_batch(
            reports, write=self._write_batch, alone=self._record_alone, falls_back_on=DBAPIError
        )

    # --- changes to recorded files (bookkeeping/writer/changes.py) --------------------

    def set_visibility(self, lfns: Sequence[str], visible: bool) -> int:
        return changes.set_visibility(self.engine, lfns, visible)

    def set_life_cycle(self, lfns: Sequence[str], state: LifeCycleState) -> int:
        return changes.set_life_cycle(self.engine, lfns, LifeCycleChange(state))

    def add_replicas(self, lfns: Sequence[str], replica: ReplicaSpec) -> int:
        return changes.change_replicas(self.engine, lfns, AddCopy(replica))

    def add_replicas_at(self, paths: Mapping[str, str], replica: ReplicaSpec) -> int:
        return changes.change_replicas(self.engine, list(paths), AddCopy(replica, dict(paths)))

    def remove_replicas(self, lfns: Sequence[str], replica: ReplicaKey) -> int:
        return changes.change_replicas(self.engine, lfns, RemoveCopy(replica))

    def change_replicas(
        self,
        lfns: Sequence[str],
        replica: ReplicaKey,
        *,
        status: str | None = None,
        pfn: str | None = None,
        area: str | None = None,
        se: str | None = None,
        path: str | None = None,
    ) -> int:
        change = ChangeCopy(replica, status, pfn, area, se, path)
        return changes.change_replicas(self.engine, lfns, change)

    def mark_copies_at(
        self, se: str, copies: Mapping[str, str], status: str, *, then: ThenHook | None = None
    ) -> MarkedCopies:
        return changes.mark_copies_at(self.engine, se, copies, status, then)

    def _write_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        return retrying(lambda: self._write(reports), retry_on=_retryable, attempts=BATCH_ATTEMPTS)

    def _record_alone(self, report: JobReport) -> RecordResult:
        try:
            return retrying(lambda: self._write([report])[0], retry_on=_retryable, attempts=RETRIES)
        except DBAPIError as exc:
            return failed(report, ReportConflict(named(report, f"cannot be recorded: {exc.orig}")))

    def _write(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        """Plan ``reports`` on what is recorded now, reserve their ids, write them in one
        transaction. One result per report, in order."""
        if not reports:
            return []
        with self.engine.connect() as connection:
            known = _lookups(connection, reports, self.types)
        batch = plan(reports, known)
        file_types = known.file_types
        if batch.file_types:
            file_types = counters.ensure_file_types(self.engine, batch.file_types, file_types)
        self.types.learn(known.event_types, file_types)
        firsts = counters.reserve(
            self.engine, {counters.JOBS: batch.jobs, counters.FILES: batch.files}
        )
        ids = Ids(job=firsts.get(counters.JOBS, 0), file=firsts.get(counters.FILES, 0))
        rows = _rows(batch, batch.assign(ids, file_types))
        with write_transaction(self.engine) as connection:
            _insert(connection, rows)
        self.types.learn((spec.event_type for spec in batch.event_types), {})
        return batch.results(ids)


def _rows(batch: Plan, assigned: Iterable[AssignedReport]) -> _Rows:
    rows = _Rows()
    rows.event_types.extend(
        {
            "type_id": spec.event_type,
            "description": spec.description,
            "primary": spec.primary,
            "decay": spec.decay,
        }
        for spec in batch.event_types
    )
    for item in assigned:
        _job_rows(rows, item)
        rows.input_files.extend(
            {"job_id": item.job_id, "file_id": file_id} for file_id in item.input_file_ids
        )
        for written in item.files:
            output, file_id = written.output, written.file_id
            rows.files.append(
                {
                    "file_id": file_id,
                    "job_id": item.job_id,
                    "type_id": written.type_id,
                    "logname": output.lfn,
                    "creationdate": output.creation_time,
                    "visible": output.visible,
                    "state": output.state,
                }
            )
            parameters = [
                (FILE_PARAMETER_GUID, output.guid),
                (FILE_PARAMETER_SIZE, str(output.size)),
                (FILE_PARAMETER_EVENTS, str(output.events)),
                (FILE_PARAMETER_EVENT_TYPE, str(output.event_type)),
                (FILE_PARAMETER_CHECKSUM, output.checksum),
                *output.parameters,
            ]
            rows.file_params.extend(
                {"file_id": file_id, "name": name, "value": value} for name, value in parameters
            )
            rows.replicas.extend(
                {
                    "file_id": file_id,
                    "site": replica.site,
                    "storageclass": replica.storage_class,
                    "area": replica.area,
                    "status": replica.status,
                    "replica": replica.pfn,
                    "se": replica.se,
                    "se_path": replica.path,
                }
                for replica in output.replicas
            )
            rows.quality.extend(
                {"file_id": file_id, "name": quality.group, "value": quality.flag}
                for quality in output.quality
            )
    return rows


def _job_rows(rows: _Rows, item: AssignedReport) -> None:
    report, job_id = item.report, item.job_id
    rows.jobs.append(
        {
            "job_id": job_id,
            "configname": report.config_name,
            "configversion": report.config_version,
            "jobdate": report.job_date,
        }
    )
    rows.dirac_jobs.append({"dirac_job_id": report.dirac_job_id, "job_id": job_id})
    parameters = [
        (JOB_PARAMETER_DIRAC_JOB_ID, str(report.dirac_job_id)),
        (JOB_PARAMETER_PRODUCTION, str(report.production)),
        (JOB_PARAMETER_CONDITIONS, report.conditions),
        (JOB_PARAMETER_PROCESSING_PASS, report.processing_pass),
        *report.parameters,
    ]
    if report.run is not None:
        parameters.append((JOB_PARAMETER_RUN, str(report.run)))
    rows.job_params.extend(
        {"job_id": job_id, "name": name, "value": value} for name, value in parameters
    )


def _insert(connection: Connection, rows: _Rows) -> None:
    # Parents before children (foreign keys are enforced on every back-end); the DIRAC job
    # ids right after the jobs, so that a report another writer recorded meanwhile fails
    # the transaction before the bulk of the rows is sent.
    for table, values in (
        (event_types, rows.event_types),
        (jobs, rows.jobs),
        (dirac_jobs, rows.dirac_jobs),
        (job_params, rows.job_params),
        (files, rows.files),
        (file_params, rows.file_params),
        (input_files, rows.input_files),
        (replicas, rows.replicas),
        (quality_params, rows.quality),
    ):
        if values:
            insert_many(connection, table, values)


def _lookups(connection: Connection, reports: Sequence[JobReport], memory: TypeMemory) -> Known:
    wanted_ids, lfns, types = wanted_names(reports)
    # DIRAC job ids before and after the rest: see planning.dirac_ids_to_confirm.
    before = _known_dirac_ids(connection, wanted_ids)
    known_lfns: dict[str, int] = {}
    for chunk in chunked(lfns, IN_CHUNK):
        query = sa.select(files.c.logname, files.c.file_id).where(files.c.logname.in_(chunk))
        known_lfns.update((lfn, file_id) for lfn, file_id in connection.execute(query))
    known_types = memory.event_types & set(types)
    for type_ids in chunked(memory.unknown_event_types(types), IN_CHUNK):
        query = sa.select(event_types.c.type_id).where(event_types.c.type_id.in_(type_ids))
        known_types.update(connection.scalars(query))
    file_types = (
        dict(memory.file_types)
        if memory.knows_file_types_of(reports)
        else counters.known_file_types(connection)
    )
    recorded = before | _known_dirac_ids(
        connection, dirac_ids_to_confirm(reports, before, known_lfns)
    )
    return Known(recorded, known_lfns, known_types, file_types)


def _known_dirac_ids(connection: Connection, wanted: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunked(wanted, IN_CHUNK):
        query = sa.select(dirac_jobs.c.dirac_job_id).where(dirac_jobs.c.dirac_job_id.in_(chunk))
        found.update(connection.scalars(query))
    return found
