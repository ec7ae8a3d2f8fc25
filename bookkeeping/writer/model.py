"""The job report: what a finished production job tells the bookkeeping.

A report is parsed from XML or JSON (``bookkeeping.writer.parsing``) or built directly in
Python, then checked by ``bookkeeping.writer.validation`` before anything is written.

Identity: a report is identified by its DIRAC job id (``JobReport.identity``). A report whose
DIRAC job id is already recorded, with its output files, is a duplicate and is not written
again (idempotency); one whose job id is recorded without one of its output files is a
different report under the same id, and an output LFN recorded by another job: both are
conflicts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

# Parameter names the writer stores itself; a report's free-form parameters may not use them.
JOB_PARAMETER_DIRAC_JOB_ID = "DIRAC_JobID"
JOB_PARAMETER_PRODUCTION = "Production"
JOB_PARAMETER_RUN = "RunNumber"
JOB_PARAMETER_CONDITIONS = "Conditions"
JOB_PARAMETER_PROCESSING_PASS = "ProcessingPass"
RESERVED_JOB_PARAMETERS = frozenset(
    {
        JOB_PARAMETER_DIRAC_JOB_ID,
        JOB_PARAMETER_PRODUCTION,
        JOB_PARAMETER_RUN,
        JOB_PARAMETER_CONDITIONS,
        JOB_PARAMETER_PROCESSING_PASS,
    }
)

FILE_PARAMETER_GUID = "GUID"
FILE_PARAMETER_SIZE = "Size"
FILE_PARAMETER_EVENTS = "EventStat"
FILE_PARAMETER_EVENT_TYPE = "EventType"
FILE_PARAMETER_CHECKSUM = "ADLER32"
RESERVED_FILE_PARAMETERS = frozenset(
    {
        FILE_PARAMETER_GUID,
        FILE_PARAMETER_SIZE,
        FILE_PARAMETER_EVENTS,
        FILE_PARAMETER_EVENT_TYPE,
        FILE_PARAMETER_CHECKSUM,
    }
)

# File-type parameters (typeParams): a file type is identified by (Name, Version).
TYPE_PARAMETER_NAME = "Name"
TYPE_PARAMETER_VERSION = "Version"

STORAGE_CLASSES = ("tape", "disk", "recall")
REPLICA_STATUSES = ("available", "lost", "bad")  # bad: the SE holds other bytes


@dataclass(frozen=True)
class EventTypeSpec:
    """An event type the report declares (inserted if the bookkeeping does not know it)."""

    event_type: int
    description: str
    primary: str = ""
    decay: str = ""


@dataclass(frozen=True)
class ReplicaSpec:
    site: str
    storage_class: str  # one of STORAGE_CLASSES
    area: str = ""  # the recall disk area for storage_class "recall", e.g. "f0a 14"
    status: str = "available"  # one of REPLICA_STATUSES
    pfn: str = ""
    # The storage element holding the bytes (a name of ``bookkeeping.storage.registry``) and
    # the file's path on it; both empty for a copy recorded without real storage.
    se: str = ""
    path: str = ""


@dataclass(frozen=True)
class QualitySpec:
    group: str
    flag: str


@dataclass(frozen=True)
class OutputFileSpec:
    lfn: str
    file_type: str
    file_type_version: str
    guid: str
    size: int
    events: int
    checksum: str
    event_type: int
    creation_time: datetime
    visible: bool = True
    parameters: tuple[tuple[str, str], ...] = ()  # extra fileParams, name -> value
    replicas: tuple[ReplicaSpec, ...] = ()
    quality: tuple[QualitySpec, ...] = ()
    # The life cycle (bookkeeping/writer/lifecycle.py): a finished job's output is closed; a
    # writer still filling a file (a DAQ run) reports it open and closes it later.
    state: str = "closed"


@dataclass(frozen=True)
class JobReport:
    config_name: str
    config_version: str
    job_date: datetime
    dirac_job_id: int
    production: int
    conditions: str
    processing_pass: str
    run: int | None = None
    parameters: tuple[tuple[str, str], ...] = ()  # extra jobParams, name -> value
    input_files: tuple[str, ...] = ()  # LFNs already in the bookkeeping (or earlier in a batch)
    output_files: tuple[OutputFileSpec, ...] = ()
    event_types: tuple[EventTypeSpec, ...] = ()
    # Where the report came from (file name, "<stdin>", ...); only used in messages.
    source: str = field(default="", compare=False)

    @property
    def identity(self) -> int:
        return self.dirac_job_id


class RecordStatus(enum.Enum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # the identity was already recorded; nothing written
    FAILED = "failed"  # invalid or conflicting; nothing written


@dataclass(frozen=True)
class RecordResult:
    source: str
    status: RecordStatus
    job_id: int | None = None
    files: int = 0
    error: str | None = None
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is not RecordStatus.FAILED
