"""Recording job reports in the warehouse (the ``BookkeepingWriter`` of the warehouse).

A batch is checked against the database with a few set-based queries (known DIRAC job
ids, LFNs, event and file types), then written with one multi-row insert per table, in one
transaction. If that transaction fails for a reason the checks could not foresee (e.g. a
concurrent writer took the same ids), each report is retried in a transaction of its own,
so one bad report never takes the rest of the batch with it.

Ids (job, file, file type) are ``max + 1`` inside the writing transaction, so they depend
only on the sequence of recorded reports: two implementations fed the same reports agree.
Writers take the warehouse write lock (``locking.exclusive_write``) so they never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bookkeeping.errors import BookkeepingError, ValidationError
from bookkeeping.warehouse.locking import exclusive_write
from bookkeeping.warehouse.tables import (
    event_types,
    file_params,
    files,
    input_files,
    job_params,
    jobs,
    quality_params,
    replicas,
    type_params,
)
from bookkeeping.writer.errors import ReportConflict
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
    TYPE_PARAMETER_NAME,
    TYPE_PARAMETER_VERSION,
    JobReport,
    OutputFileSpec,
    RecordResult,
    RecordStatus,
)
from bookkeeping.writer.validation import validate_report

IN_CHUNK = 500  # values per IN (...) list: far below every back-end's parameter limit
RETRIES = 3  # per-report attempts when a concurrent writer took the same ids


def _chunks(values: Sequence[str] | Sequence[int]) -> Iterator[Sequence]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


@dataclass
class _Rows:
    """Rows to insert for a batch, table by table."""

    jobs: list[dict] = field(default_factory=list)
    job_params: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    file_params: list[dict] = field(default_factory=list)
    input_files: list[dict] = field(default_factory=list)
    replicas: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    event_types: list[dict] = field(default_factory=list)
    type_params: list[dict] = field(default_factory=list)


class WarehouseWriter:
    """``BookkeepingWriter`` over the warehouse tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, report: JobReport) -> RecordResult:
        return self.record_batch([report])[0]

    def record_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        results: list[RecordResult | None] = [None] * len(reports)
        valid: list[int] = []
        for index, report in enumerate(reports):
            try:
                validate_report(report)
            except ValidationError as exc:
                results[index] = _failed(report, exc)
            else:
                valid.append(index)
        try:
            with exclusive_write(self.engine) as connection:
                written = _write(connection, [reports[i] for i in valid])
            for index, result in zip(valid, written, strict=True):
                results[index] = result
        except (IntegrityError, DBAPIError):
            # Something changed under us between check and insert: one report at a time.
            for index in valid:
                results[index] = self._record_alone(reports[index])
        return [result for result in results if result is not None]

    def _record_alone(self, report: JobReport) -> RecordResult:
        for attempt in range(RETRIES):
            try:
                with exclusive_write(self.engine) as connection:
                    return _write(connection, [report])[0]
            except IntegrityError as exc:
                if attempt == RETRIES - 1:
                    return _failed(
                        report, ReportConflict(_named(report, f"cannot be recorded: {exc.orig}"))
                    )
        raise AssertionError("unreachable")


def _named(report: JobReport, message: str) -> str:
    return f"{report.source}: {message}" if report.source else message


def _failed(report: JobReport, error: BookkeepingError) -> RecordResult:
    return RecordResult(
        source=report.source,
        status=RecordStatus.FAILED,
        error=str(error),
        error_code=error.code,
    )


def _write(connection: Connection, reports: Sequence[JobReport]) -> list[RecordResult]:
    """Check and insert ``reports`` on ``connection``; conflicting reports become FAILED
    results and are not written. Returns one result per report, in order."""
    if not reports:
        return []
    recorded_ids = _known_dirac_ids(connection, [r.dirac_job_id for r in reports])
    all_lfns = {f.lfn for r in reports for f in r.output_files} | {
        lfn for r in reports for lfn in r.input_files
    }
    known_lfns = _known_lfns(connection, sorted(all_lfns))
    known_event_types = _known_event_types(
        connection,
        sorted({f.event_type for r in reports for f in r.output_files}),
    )
    file_type_ids = _known_file_types(connection)
    next_job = _next_id(connection, jobs.c.job_id)
    next_file = _next_id(connection, files.c.file_id)
    next_type = max(file_type_ids.values(), default=0) + 1

    rows = _Rows()
    results: list[RecordResult] = []
    for report in reports:
        if report.dirac_job_id in recorded_ids:
            results.append(RecordResult(report.source, RecordStatus.DUPLICATE))
            continue
        problem = _conflict(report, known_lfns, known_event_types)
        if problem:
            results.append(_failed(report, ReportConflict(_named(report, problem))))
            continue
        recorded_ids.add(report.dirac_job_id)
        for spec in report.event_types:
            if spec.event_type not in known_event_types:
                known_event_types.add(spec.event_type)
                rows.event_types.append(
                    {
                        "type_id": spec.event_type,
                        "description": spec.description,
                        "primary": spec.primary,
                        "decay": spec.decay,
                    }
                )
        job_id, next_job = next_job, next_job + 1
        _job_rows(rows, job_id, report)
        rows.input_files.extend(
            {"job_id": job_id, "file_id": known_lfns[lfn]} for lfn in report.input_files
        )
        for output in report.output_files:
            type_key = (output.file_type, output.file_type_version)
            if type_key not in file_type_ids:
                file_type_ids[type_key], next_type = next_type, next_type + 1
                rows.type_params.extend(
                    [
                        {"type_id": file_type_ids[type_key], "name": name, "value": value}
                        for name, value in zip(
                            (TYPE_PARAMETER_NAME, TYPE_PARAMETER_VERSION), type_key, strict=True
                        )
                    ]
                )
            file_id, next_file = next_file, next_file + 1
            known_lfns[output.lfn] = file_id
            _file_rows(rows, file_id, job_id, file_type_ids[type_key], output)
        results.append(
            RecordResult(
                report.source, RecordStatus.RECORDED, job_id=job_id, files=len(report.output_files)
            )
        )
    _insert(connection, rows)
    return results


def _conflict(report: JobReport, known_lfns: dict[str, int], known_types: set[int]) -> str | None:
    for output in report.output_files:
        if output.lfn in known_lfns:
            return f"output file {output.lfn} is already recorded by another job"
    for lfn in report.input_files:
        if lfn not in known_lfns:
            return f"input file {lfn} is not in the bookkeeping"
    declared = {spec.event_type for spec in report.event_types}
    for output in report.output_files:
        if output.event_type not in known_types and output.event_type not in declared:
            return (
                f"output file {output.lfn}: event type {output.event_type} is unknown; "
                "declare it with an EventType element"
            )
    return None


def _job_rows(rows: _Rows, job_id: int, report: JobReport) -> None:
    rows.jobs.append(
        {
            "job_id": job_id,
            "configname": report.config_name,
            "configversion": report.config_version,
            "jobdate": report.job_date,
        }
    )
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


def _file_rows(
    rows: _Rows, file_id: int, job_id: int, type_id: int, output: OutputFileSpec
) -> None:
    rows.files.append(
        {
            "file_id": file_id,
            "job_id": job_id,
            "type_id": type_id,
            "logname": output.lfn,
            "creationdate": output.creation_time,
            "visible": output.visible,
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
        }
        for replica in output.replicas
    )
    rows.quality.extend(
        {"file_id": file_id, "name": quality.group, "value": quality.flag}
        for quality in output.quality
    )


def _insert(connection: Connection, rows: _Rows) -> None:
    # Parents before children (foreign keys are enforced on every back-end).
    for table, values in (
        (event_types, rows.event_types),
        (type_params, rows.type_params),
        (jobs, rows.jobs),
        (job_params, rows.job_params),
        (files, rows.files),
        (file_params, rows.file_params),
        (input_files, rows.input_files),
        (replicas, rows.replicas),
        (quality_params, rows.quality),
    ):
        if values:
            insert_many(connection, table, values)


def insert_many(connection: Connection, table: sa.Table, values: list[dict]) -> None:
    """One ``executemany`` of a prepared INSERT, straight to the driver.

    The bulk path writes millions of rows; SQLAlchemy's per-row parameter handling costs
    more than the database does. The statement is built from our own table metadata
    (identifiers quoted by the dialect), values stay bound parameters, and each column's
    own bind processor (e.g. DateTime on SQLite) is still applied.
    """
    dialect = connection.dialect
    names = list(values[0])
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_rows(connection, table, names, values)
        return
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    rows: list[Any]
    if dialect.paramstyle == "named":
        markers = ", ".join(f":p{index}" for index in range(len(names)))
        rows = [
            {
                f"p{i}": (p(v) if p else v)
                for i, (p, v) in enumerate(zip(processors, row.values(), strict=True))
            }
            for row in values
        ]
    else:
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
        markers = ", ".join([marker] * len(names))
        if any(processors):
            rows = [
                tuple(p(v) if p else v for p, v in zip(processors, row.values(), strict=True))
                for row in values
            ]
        else:
            rows = [tuple(row.values()) for row in values]
    statement = f"INSERT INTO {quote.format_table(table)} ({columns}) VALUES ({markers})"
    connection.exec_driver_sql(statement, rows)


def _copy_rows(
    connection: Connection, table: sa.Table, names: list[str], values: list[dict]
) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN``, the server's own bulk load, on the transaction's
    connection (so it commits or rolls back with the rest of the batch)."""
    quote = connection.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    statement = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in values:
                copy.write_row(tuple(row.values()))
    finally:
        cursor.close()


def _next_id(connection: Connection, column: sa.Column) -> int:
    return int(connection.scalar(sa.select(sa.func.coalesce(sa.func.max(column), 0)))) + 1


def _known_dirac_ids(connection: Connection, ids: Iterable[int]) -> set[int]:
    wanted = sorted({str(i) for i in ids})
    found: set[int] = set()
    for chunk in _chunks(wanted):
        query = sa.select(job_params.c.value).where(
            job_params.c.name == JOB_PARAMETER_DIRAC_JOB_ID, job_params.c.value.in_(chunk)
        )
        found.update(int(value) for value in connection.scalars(query))
    return found


def _known_lfns(connection: Connection, lfns: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(lfns):
        query = sa.select(files.c.logname, files.c.file_id).where(files.c.logname.in_(chunk))
        found.update((lfn, file_id) for lfn, file_id in connection.execute(query))
    return found


def _known_event_types(connection: Connection, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        query = sa.select(event_types.c.type_id).where(event_types.c.type_id.in_(chunk))
        found.update(connection.scalars(query))
    return found


def _known_file_types(connection: Connection) -> dict[tuple[str, str], int]:
    """(Name, Version) -> type_id: the typeParams self-join (file types are few)."""
    name = type_params.alias("type_name")
    version = type_params.alias("type_version")
    query = sa.select(name.c.type_id, name.c.value, version.c.value).join(
        version,
        sa.and_(version.c.type_id == name.c.type_id, version.c.name == TYPE_PARAMETER_VERSION),
    )
    query = query.where(name.c.name == TYPE_PARAMETER_NAME)
    return {(n, v): type_id for type_id, n, v in connection.execute(query)}
