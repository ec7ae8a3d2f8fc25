"""Recording job reports in the catalogue (the catalogue's ``BookkeepingWriter``).

The same rules as the warehouse writer (``bookkeeping.warehouse.store``), so that both
implementations fed the same reports hold the same bookkeeping:

- a batch is checked with a few set-based lookups, then written with one ``addentries`` per
  directory, all in one catalogue transaction; if that fails (a concurrent writer took the
  same ids), each report is retried in a transaction of its own;
- ids are ``max + 1`` inside the writing transaction;
- a report whose DIRAC job id is recorded is a duplicate; conflicts fail the report alone.

Schema changes come first, outside the transaction (DDL commits implicitly on MariaDB):
the attribute of every parameter name in the batch and the directory of every replica site
are ensured before ``begin()``. A failed batch may leave an unused attribute, never half a
report.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import chunked_rows, rows, scalar
from bookkeeping.amga_adapter.catalogue import Catalogue
from bookkeeping.amga_adapter.errors import CatalogueError, ConstraintViolation, EntryExists
from bookkeeping.amga_adapter.session import CatalogueSession
from bookkeeping.errors import BookkeepingError, ValidationError
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

RETRIES = 6  # per-report attempts once the batch gave up
BATCH_ATTEMPTS = 6  # whole-batch attempts before falling back to one report at a time
DEFAULT_USER = "root"

Entry = tuple[str, dict[str, object]]


@dataclass
class WrittenFile:
    """A file recorded by the batch, with what the views need to know about it."""

    file_id: int
    job_id: int
    report: JobReport
    output: OutputFileSpec
    input_file_ids: tuple[int, ...]


@dataclass
class Batch:
    """Entries to add, directory by directory, and the files they record."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)
    files: list[WrittenFile] = field(default_factory=list)

    def add(self, directory: str, name: object, values: dict[str, object]) -> None:
        self.entries.setdefault(directory, []).append((str(name), values))


class ViewHooks(Protocol):
    """What a writer tells the views (``bookkeeping.views.maintain.ViewMaintainer``)."""

    def prepare(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        """Before the transaction: schema changes the batch will need."""

    def write(self, session: CatalogueSession, batch: Batch) -> None:
        """Inside the transaction, after the batch's entries are added."""

    def committed(self) -> None: ...

    def aborted(self) -> None: ...


def job_parameters(report: JobReport) -> list[tuple[str, str]]:
    parameters = [
        (JOB_PARAMETER_DIRAC_JOB_ID, str(report.dirac_job_id)),
        (JOB_PARAMETER_PRODUCTION, str(report.production)),
        (JOB_PARAMETER_CONDITIONS, report.conditions),
        (JOB_PARAMETER_PROCESSING_PASS, report.processing_pass),
        *report.parameters,
    ]
    if report.run is not None:
        parameters.append((JOB_PARAMETER_RUN, str(report.run)))
    return parameters


def file_parameters(output: OutputFileSpec) -> list[tuple[str, str]]:
    return [
        (FILE_PARAMETER_GUID, output.guid),
        (FILE_PARAMETER_SIZE, str(output.size)),
        (FILE_PARAMETER_EVENTS, str(output.events)),
        (FILE_PARAMETER_EVENT_TYPE, str(output.event_type)),
        (FILE_PARAMETER_CHECKSUM, output.checksum),
        *output.parameters,
    ]


def _parameter_values(directory: str, parameters: list[tuple[str, str]]) -> dict[str, object]:
    return {
        L.attribute_name(directory, name): (
            int(value) if L.parameter_type(directory, name) else value
        )
        for name, value in parameters
    }


class CatalogueWriter:
    """``BookkeepingWriter`` over the catalogue directories of ``layout``."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str = DEFAULT_USER,
        views: bool | ViewHooks = True,
    ) -> None:
        """``views``: keep the roottree and its shards up to date (the default), or not,
        or use the given hooks."""
        self.engine = engine
        self.catalogue = Catalogue(engine)
        self.user = user
        if views is True:
            from bookkeeping.views.maintain import ViewMaintainer  # the views build on us

            views = ViewMaintainer()
        self.views: ViewHooks | None = views or None
        self._layout_ready = False

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
        session = self.catalogue.session(self.user)
        try:
            self._prepare_schema(session, [reports[i] for i in valid])
            try:
                written = self._write_batch(session, [reports[i] for i in valid])
                for index, result in zip(valid, written, strict=True):
                    results[index] = result
            except CatalogueError:
                for index in valid:
                    results[index] = self._record_alone(session, reports[index])
        finally:
            session.close()
        return [result for result in results if result is not None]

    # --- internals ------------------------------------------------------------------

    def _prepare_schema(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        if not self._layout_ready:
            L.ensure_layout(session)
            self._layout_ready = True
        job_names = {name for r in reports for name, _ in job_parameters(r)}
        file_names = {
            name for r in reports for f in r.output_files for name, _ in file_parameters(f)
        }
        for directory, names in ((L.JOB_PARAMS, job_names), (L.FILE_PARAMS, file_names)):
            if names:
                session.ensure_attributes(
                    directory,
                    {L.attribute_name(directory, n): L.parameter_type(directory, n) for n in names},
                )
        sites = sorted({c.site for r in reports for f in r.output_files for c in f.replicas})
        for site in sites:
            L.ensure_directory(session, L.replica_directory(site), L.REPLICA_ATTRIBUTES)
        if self.views is not None and reports:
            self.views.prepare(session, reports)

    def _write_atomically(
        self, session: CatalogueSession, reports: Sequence[JobReport]
    ) -> list[RecordResult]:
        if not reports:
            return []
        session.begin()
        try:
            results, batch = _plan(session, reports)
            for directory, entries in batch.entries.items():
                session.addentries(directory, entries)
            if self.views is not None and batch.files:
                self.views.write(session, batch)
        except BaseException:
            session.abort()
            if self.views is not None:
                self.views.aborted()
            raise
        try:
            session.commit()
        except BaseException:
            if self.views is not None:
                self.views.aborted()
            raise
        if self.views is not None:
            self.views.committed()
        return results

    def _write_batch(
        self, session: CatalogueSession, reports: Sequence[JobReport]
    ) -> list[RecordResult]:
        """The whole batch in one transaction; when a concurrent writer took the same ids
        (the entry names) first, plan again from what it wrote, after a random pause."""
        for attempt in range(BATCH_ATTEMPTS):
            try:
                return self._write_atomically(session, reports)
            except (EntryExists, ConstraintViolation):
                if attempt == BATCH_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")

    def _record_alone(self, session: CatalogueSession, report: JobReport) -> RecordResult:
        for attempt in range(RETRIES):
            try:
                return self._write_atomically(session, [report])[0]
            except CatalogueError as exc:
                if attempt == RETRIES - 1:
                    return _failed(
                        report, ReportConflict(_named(report, f"cannot be recorded: {exc}"))
                    )
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # let the racing writer finish
        raise AssertionError("unreachable")


def _named(report: JobReport, message: str) -> str:
    """The warehouse writer's wording: the report's source, then the problem."""
    return f"{report.source}: {message}" if report.source else message


def _failed(report: JobReport, error: BookkeepingError) -> RecordResult:
    return RecordResult(
        source=report.source, status=RecordStatus.FAILED, error=str(error), error_code=error.code
    )


@dataclass
class _Known:
    dirac_ids: set[int]
    lfns: dict[str, int]
    event_types: set[int]
    file_types: dict[tuple[str, str], int]
    next_job: int
    next_file: int
    next_type: int
    next_quality: int


def _lookups(session: CatalogueSession, reports: Sequence[JobReport]) -> _Known:
    dirac = L.attribute_name(L.JOB_PARAMS, JOB_PARAMETER_DIRAC_JOB_ID)
    dirac_ref = f"{L.JOB_PARAMS}:{dirac}"
    wanted_ids = sorted({r.dirac_job_id for r in reports})
    lfns = sorted(
        {f.lfn for r in reports for f in r.output_files}
        | {lfn for r in reports for lfn in r.input_files}
    )
    types = sorted({f.event_type for r in reports for f in r.output_files})
    file_types = {
        (name, version): int(type_id)
        for type_id, name, version in rows(
            session,
            [f"{L.TYPE_PARAMS}:TYPE_ID", f"{L.TYPE_PARAMS}:Name", f"{L.TYPE_PARAMS}:Version"],
        )
    }
    return _Known(
        dirac_ids={int(v) for (v,) in chunked_rows(session, [dirac_ref], dirac_ref, wanted_ids)},
        lfns={
            lfn: int(file_id)
            for lfn, file_id in chunked_rows(
                session, [f"{L.FILES}:LOGNAME", f"{L.FILES}:FILE_ID"], f"{L.FILES}:LOGNAME", lfns
            )
        },
        event_types={
            int(t)
            for (t,) in chunked_rows(
                session, [f"{L.EVENT_TYPES}:TYPE_ID"], f"{L.EVENT_TYPES}:TYPE_ID", types
            )
        },
        file_types=file_types,
        next_job=_next_id(session, f"{L.JOBS}:JOB_ID"),
        next_file=_next_id(session, f"{L.FILES}:FILE_ID"),
        next_type=max(file_types.values(), default=0) + 1,
        next_quality=_next_id(session, f"{L.QUALITY_PARAMS}:QUALITY_ID"),
    )


def _next_id(session: CatalogueSession, reference: str) -> int:
    return int(scalar(session, f"max({reference})") or 0) + 1


def _conflict(report: JobReport, known: _Known) -> str | None:
    # The warehouse writer's checks, in its order and with its words.
    for output in report.output_files:
        if output.lfn in known.lfns:
            return f"output file {output.lfn} is already recorded by another job"
    for lfn in report.input_files:
        if lfn not in known.lfns:
            return f"input file {lfn} is not in the bookkeeping"
    declared = {spec.event_type for spec in report.event_types}
    for output in report.output_files:
        if output.event_type not in known.event_types and output.event_type not in declared:
            return (
                f"output file {output.lfn}: event type {output.event_type} is unknown; "
                "declare it with an EventType element"
            )
    return None


def _plan(
    session: CatalogueSession, reports: Sequence[JobReport]
) -> tuple[list[RecordResult], Batch]:
    known = _lookups(session, reports)
    batch = Batch()
    results: list[RecordResult] = []
    for report in reports:
        if report.dirac_job_id in known.dirac_ids:
            results.append(RecordResult(report.source, RecordStatus.DUPLICATE))
            continue
        problem = _conflict(report, known)
        if problem:
            results.append(_failed(report, ReportConflict(_named(report, problem))))
            continue
        known.dirac_ids.add(report.dirac_job_id)
        _plan_event_types(batch, known, report)
        job_id, known.next_job = known.next_job, known.next_job + 1
        _plan_job(batch, job_id, report)
        inputs = tuple(known.lfns[lfn] for lfn in report.input_files)
        for file_id in inputs:
            batch.add(L.INPUT_FILES, f"{job_id}_{file_id}", {"JOB_ID": job_id, "FILE_ID": file_id})
        for output in report.output_files:
            type_id = _file_type(batch, known, output)
            file_id, known.next_file = known.next_file, known.next_file + 1
            known.lfns[output.lfn] = file_id
            _plan_file(batch, known, file_id, job_id, type_id, output)
            batch.files.append(WrittenFile(file_id, job_id, report, output, inputs))
        results.append(
            RecordResult(
                report.source, RecordStatus.RECORDED, job_id=job_id, files=len(report.output_files)
            )
        )
    return results, batch


def _plan_event_types(batch: Batch, known: _Known, report: JobReport) -> None:
    for spec in report.event_types:
        if spec.event_type not in known.event_types:
            known.event_types.add(spec.event_type)
            batch.add(
                L.EVENT_TYPES,
                spec.event_type,
                {
                    "TYPE_ID": spec.event_type,
                    "DESCRIPTION": spec.description,
                    "PRIMARY": spec.primary,
                    "DECAY": spec.decay,
                },
            )


def _plan_job(batch: Batch, job_id: int, report: JobReport) -> None:
    batch.add(
        L.JOBS,
        job_id,
        {
            "JOB_ID": job_id,
            "CONFIGNAME": report.config_name,
            "CONFIGVERSION": report.config_version,
            "JOBDATE": report.job_date,
        },
    )
    values = _parameter_values(L.JOB_PARAMS, job_parameters(report))
    batch.add(L.JOB_PARAMS, job_id, {"JOB_ID": job_id, **values})


def _file_type(batch: Batch, known: _Known, output: OutputFileSpec) -> int:
    key = (output.file_type, output.file_type_version)
    if key not in known.file_types:
        type_id = known.file_types[key] = known.next_type
        known.next_type += 1
        batch.add(
            L.TYPE_PARAMS,
            type_id,
            {"TYPE_ID": type_id, TYPE_PARAMETER_NAME: key[0], TYPE_PARAMETER_VERSION: key[1]},
        )
    return known.file_types[key]


def _plan_file(
    batch: Batch, known: _Known, file_id: int, job_id: int, type_id: int, output: OutputFileSpec
) -> None:
    batch.add(
        L.FILES,
        file_id,
        {
            "FILE_ID": file_id,
            "JOB_ID": job_id,
            "TYPE_ID": type_id,
            "LOGNAME": output.lfn,
            "CREATIONDATE": output.creation_time,
            "VISIBLE": 1 if output.visible else 0,
        },
    )
    values = _parameter_values(L.FILE_PARAMS, file_parameters(output))
    batch.add(L.FILE_PARAMS, file_id, {"FILE_ID": file_id, **values})
    for index, copy in enumerate(output.replicas):
        batch.add(
            L.replica_directory(copy.site),
            f"{file_id}_{index}",
            {
                "FILE_ID": file_id,
                "STORAGECLASS": copy.storage_class,
                "AREA": copy.area,
                "STATUS": copy.status,
                "REPLICA": copy.pfn,
            },
        )
    for quality in output.quality:
        quality_id, known.next_quality = known.next_quality, known.next_quality + 1
        batch.add(
            L.QUALITY_PARAMS,
            quality_id,
            {
                "QUALITY_ID": quality_id,
                "FILE_ID": file_id,
                "Group": quality.group,
                "Flag": quality.flag,
            },
        )
