"""A batch of job reports as catalogue entries: the look-ups a plan starts from, and the
entries of the recorded reports, directory by directory (Appendix A layout)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.ids import known_file_types
from bookkeeping.amga_adapter.engine.session import CatalogueSession
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
    OutputFileSpec,
)
from bookkeeping.writer.planning import (
    AssignedReport,
    Known,
    Plan,
    TypeMemory,
    dirac_ids_to_confirm,
    wanted_names,
)

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


@functools.lru_cache(maxsize=4096)
def _attribute_of(directory: str, parameter: str) -> tuple[str, bool]:
    """(attribute name, stored as a number): worked out once per parameter name, not once
    per file (names are few; the encoding is a regular expression and a loop)."""
    return L.attribute_name(directory, parameter), bool(L.parameter_type(directory, parameter))


def _parameter_values(directory: str, parameters: list[tuple[str, str]]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, value in parameters:
        attribute, numeric = _attribute_of(directory, name)
        values[attribute] = int(value) if numeric else value
    return values


def lookups(session: CatalogueSession, reports: Sequence[JobReport], memory: TypeMemory) -> Known:
    """What the catalogue knows of the names ``reports`` use (outside a transaction: the
    data transaction's constraints catch whatever a concurrent writer adds meanwhile);
    event and file types in ``memory`` are not looked up again."""
    wanted_ids, lfns, types = wanted_names(reports)
    # DIRAC job ids before and after the rest: see planning.dirac_ids_to_confirm.
    before = _known_dirac_ids(session, wanted_ids)
    known_lfns = {
        str(lfn): int(file_id)
        for lfn, file_id in session.select_in(L.FILES, "LOGNAME", lfns, ["FILE_ID"])
    }
    event_types = memory.event_types & set(types)
    event_types.update(
        int(t)
        for (t,) in session.select_in(
            L.EVENT_TYPES, "TYPE_ID", memory.unknown_event_types(types), []
        )
    )
    file_types = (
        dict(memory.file_types)
        if memory.knows_file_types_of(reports)
        else known_file_types(session)
    )
    recorded = before | _known_dirac_ids(session, dirac_ids_to_confirm(reports, before, known_lfns))
    return Known(recorded, known_lfns, event_types, file_types)


_DIRAC_ATTRIBUTE = L.attribute_name(L.JOB_PARAMS, JOB_PARAMETER_DIRAC_JOB_ID)


def _known_dirac_ids(session: CatalogueSession, wanted: list[int]) -> set[int]:
    if not wanted:
        return set()
    return {int(v) for (v,) in session.select_in(L.JOB_PARAMS, _DIRAC_ATTRIBUTE, wanted, [])}


def build(plan: Plan, assigned: Iterable[AssignedReport]) -> Batch:
    """The entries of the recorded reports of ``plan``, with their assigned ids."""
    batch = Batch()
    for spec in plan.event_types:
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
    for item in assigned:
        job_id, report = item.job_id, item.report
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
        for file_id in item.input_file_ids:
            batch.add(L.INPUT_FILES, f"{job_id}_{file_id}", {"JOB_ID": job_id, "FILE_ID": file_id})
        for written in item.files:
            _add_file(batch, job_id, written.file_id, written.type_id, written.output)
            for offset, quality in enumerate(written.output.quality):
                quality_id = written.first_quality + offset
                batch.add(
                    L.QUALITY_PARAMS,
                    quality_id,
                    {
                        "QUALITY_ID": quality_id,
                        "FILE_ID": written.file_id,
                        "Group": quality.group,
                        "Flag": quality.flag,
                    },
                )
            batch.files.append(
                WrittenFile(written.file_id, job_id, report, written.output, item.input_file_ids)
            )
    return batch


def _add_file(
    batch: Batch, job_id: int, file_id: int, type_id: int, output: OutputFileSpec
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
            "STATE": output.state,
        },
    )
    values = _parameter_values(L.FILE_PARAMS, file_parameters(output))
    batch.add(L.FILE_PARAMS, file_id, {"FILE_ID": file_id, **values})
    for index, copy in enumerate(output.replicas):
        batch.add(
            L.replica_directory(copy.site), f"{file_id}_{index}", L.replica_values(file_id, copy)
        )
