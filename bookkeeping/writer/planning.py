"""Planning a batch of job reports, the same way for every bookkeeping implementation.

A writer first looks up what the bookkeeping knows (``Known``: recorded DIRAC job ids,
LFNs with their file ids, event types, file types), then ``plan`` decides, report by report
and in order, which reports are duplicates, which conflict, and what the others add: their
jobs, files, quality rows, new event types and new file types. The plan counts the ids the
batch needs but holds none: ids are *offsets* into blocks the writer reserves afterwards
(``Plan.assign``), exactly as many as the plan records, in the plan's order. Fed the same
reports one batch after another, every implementation therefore reserves the same blocks
and gives the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from bookkeeping.errors import BookkeepingError
from bookkeeping.writer.errors import ReportConflict
from bookkeeping.writer.model import (
    EventTypeSpec,
    JobReport,
    OutputFileSpec,
    RecordResult,
    RecordStatus,
)

FileTypeKey = tuple[str, str]  # (Name, Version)


@dataclass
class Known:
    """What the bookkeeping holds of the names a batch uses (looked up before planning)."""

    dirac_ids: set[int]
    lfns: dict[str, int]  # LFN -> file id
    event_types: set[int]
    file_types: dict[FileTypeKey, int]


class TypeMemory:
    """The event types and file types a writer has seen recorded, so that it looks up only
    new ones. Safe to remember: the bookkeeping never removes or renumbers either (no call
    of the interface does), whichever writer recorded them. It only grows, by a few entries.
    """

    def __init__(self) -> None:
        self.event_types: set[int] = set()
        self.file_types: dict[FileTypeKey, int] = {}

    def unknown_event_types(self, wanted: Iterable[int]) -> list[int]:
        return [event_type for event_type in wanted if event_type not in self.event_types]

    def knows_file_types_of(self, reports: Sequence[JobReport]) -> bool:
        return all(
            (f.file_type, f.file_type_version) in self.file_types
            for r in reports
            for f in r.output_files
        )

    def learn(self, event_types: Iterable[int], file_types: Mapping[FileTypeKey, int]) -> None:
        self.event_types.update(event_types)
        self.file_types.update(file_types)


@dataclass(frozen=True)
class PlannedReport:
    """A report the batch records; its ids are offsets into the batch's id blocks."""

    position: int  # in the batch
    report: JobReport
    job: int
    first_file: int  # the offset of its first output file; the others follow
    first_quality: int


@dataclass(frozen=True)
class Ids:
    """The first id of each block the writer reserved for a plan."""

    job: int
    file: int
    quality: int = 0  # the catalogue numbers quality rows; the warehouse does not


@dataclass(frozen=True)
class AssignedFile:
    file_id: int
    type_id: int
    output: OutputFileSpec
    first_quality: int  # the id of its first quality row; the others follow


@dataclass(frozen=True)
class AssignedReport:
    report: JobReport
    job_id: int
    input_file_ids: tuple[int, ...]
    files: tuple[AssignedFile, ...]


@dataclass
class Plan:
    outcomes: list[RecordResult | None]  # per report; None: recorded as planned
    recorded: list[PlannedReport]
    event_types: list[EventTypeSpec]  # new ones, first declaration first
    file_types: list[FileTypeKey]  # new ones, in order of first use
    known_lfns: dict[str, int]
    new_lfns: dict[str, int]  # LFN -> file offset, for outputs of this batch
    jobs: int = 0
    files: int = 0
    quality: int = 0

    def assign(self, ids: Ids, file_types: dict[FileTypeKey, int]) -> Iterator[AssignedReport]:
        """The recorded reports with real ids: block starts plus offsets."""
        for planned in self.recorded:
            report = planned.report
            inputs = tuple(
                self.known_lfns[lfn] if lfn in self.known_lfns else ids.file + self.new_lfns[lfn]
                for lfn in report.input_files
            )
            files = []
            quality = ids.quality + planned.first_quality
            for number, output in enumerate(report.output_files):
                key = (output.file_type, output.file_type_version)
                file_id = ids.file + planned.first_file + number
                files.append(AssignedFile(file_id, file_types[key], output, quality))
                quality += len(output.quality)
            yield AssignedReport(report, ids.job + planned.job, inputs, tuple(files))

    def results(self, ids: Ids) -> list[RecordResult]:
        """One result per report of the batch, in order."""
        outcomes = list(self.outcomes)
        for planned in self.recorded:
            report = planned.report
            outcomes[planned.position] = RecordResult(
                report.source,
                RecordStatus.RECORDED,
                job_id=ids.job + planned.job,
                files=len(report.output_files),
            )
        return [outcome for outcome in outcomes if outcome is not None]


def named(report: JobReport, message: str) -> str:
    """A problem of a report, after the report's source (file name) when it has one."""
    return f"{report.source}: {message}" if report.source else message


def failed(report: JobReport, error: BookkeepingError) -> RecordResult:
    return RecordResult(
        source=report.source, status=RecordStatus.FAILED, error=str(error), error_code=error.code
    )


def wanted_names(reports: Sequence[JobReport]) -> tuple[list[int], list[str], list[int]]:
    """What to look up for ``reports``: DIRAC job ids, LFNs (outputs and inputs) and the
    event types of the outputs, each sorted and without repeats."""
    dirac_ids = sorted({r.dirac_job_id for r in reports})
    lfns = sorted(
        {f.lfn for r in reports for f in r.output_files}
        | {lfn for r in reports for lfn in r.input_files}
    )
    event_types = sorted({f.event_type for r in reports for f in r.output_files})
    return dirac_ids, lfns, event_types


def dirac_ids_to_confirm(
    reports: Sequence[JobReport], before: set[int], lfns: Mapping[str, int]
) -> list[int]:
    """The DIRAC job ids of ``reports`` to look up a second time, after the LFNs.

    Each look-up sees what was committed when it began, and other writers commit in
    between. A report recorded meanwhile would show its DIRAC job id but not its files (its
    outputs, another report's inputs, as if never recorded), or its files but not its id
    (as if its outputs belonged to another job). So the DIRAC job ids are looked up first
    (``before``), then the LFNs (``lfns``), then again the ids of the reports not recorded
    ``before`` whose output files were all there: those found were committed before the LFN
    look-up, like the ids of ``before``, and the plan sees one moment's bookkeeping. A
    report committed just after the LFN look-up is planned as new, and the database's
    unique DIRAC job id sends the batch back to be planned again.
    """
    return sorted(
        {
            report.dirac_job_id
            for report in reports
            if report.dirac_job_id not in before
            and all(output.lfn in lfns for output in report.output_files)
        }
    )


def conflict(report: JobReport, lfns: dict[str, int], event_types: set[int]) -> str | None:
    """Why a valid report cannot be recorded on top of ``lfns`` and ``event_types``."""
    for output in report.output_files:
        if output.lfn in lfns:
            return f"output file {output.lfn} is already recorded by another job"
    for lfn in report.input_files:
        if lfn not in lfns:
            return f"input file {lfn} is not in the bookkeeping"
    declared = {spec.event_type for spec in report.event_types}
    for output in report.output_files:
        if output.event_type not in event_types and output.event_type not in declared:
            return (
                f"output file {output.lfn}: event type {output.event_type} is unknown; "
                "declare it with an EventType element"
            )
    return None


def plan(reports: Sequence[JobReport], known: Known) -> Plan:
    """Decide the fate of each (valid) report of a batch on top of ``known``; ``known`` is
    not changed."""
    dirac_ids = set(known.dirac_ids)
    event_types = set(known.event_types)
    file_types = set(known.file_types)
    # LFN -> file id, or a placeholder for the outputs of this batch: conflicts only ask
    # whether an LFN is there.
    lfns: dict[str, int] = dict(known.lfns)
    result = Plan([None] * len(reports), [], [], [], known.lfns, {})
    for position, report in enumerate(reports):
        if report.dirac_job_id in dirac_ids:
            # The same report again has its outputs recorded; a different report under a
            # recorded job id does not, and dropping it as a duplicate would lose it.
            unrecorded = [o.lfn for o in report.output_files if o.lfn not in lfns]
            if unrecorded:
                problem = (
                    f"DIRAC job {report.dirac_job_id} is already recorded, without the "
                    f"output file {unrecorded[0]}: a different report under the same job id"
                )
                result.outcomes[position] = failed(report, ReportConflict(named(report, problem)))
            else:
                result.outcomes[position] = RecordResult(report.source, RecordStatus.DUPLICATE)
            continue
        conflicting = conflict(report, lfns, event_types)
        if conflicting:
            result.outcomes[position] = failed(report, ReportConflict(named(report, conflicting)))
            continue
        dirac_ids.add(report.dirac_job_id)
        for spec in report.event_types:
            if spec.event_type not in event_types:
                event_types.add(spec.event_type)
                result.event_types.append(spec)
        result.recorded.append(
            PlannedReport(position, report, result.jobs, result.files, result.quality)
        )
        result.jobs += 1
        for output in report.output_files:
            key = (output.file_type, output.file_type_version)
            if key not in file_types:
                file_types.add(key)
                result.file_types.append(key)
            result.new_lfns[output.lfn] = result.files
            lfns[output.lfn] = -1
            result.files += 1
            result.quality += len(output.quality)
    return result
