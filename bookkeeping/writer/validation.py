"""Checks on a job report that need no database: formats, ranges, lengths, consistency.

Problems are reported with a *path* in the report's own vocabulary (the XML element and
attribute names, e.g. ``("OutputFile", 2, "Size")``) so that each parser can turn it into a
location in its input (an XML line, a JSON path).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bookkeeping.errors import ValidationError
from bookkeeping.writer.lifecycle import LIFE_CYCLE_STATES
from bookkeeping.writer.model import (
    REPLICA_STATUSES,
    RESERVED_FILE_PARAMETERS,
    RESERVED_JOB_PARAMETERS,
    STORAGE_CLASSES,
    JobReport,
    OutputFileSpec,
    ReplicaSpec,
)

NAME_LENGTH = 128
VALUE_LENGTH = 255
LFN_LENGTH = 255
SITE_LENGTH = 64
AREA_LENGTH = 64
PFN_LENGTH = 512
SE_LENGTH = 64
SE_PATH_LENGTH = 512

_LFN = re.compile(r"^/[A-Za-z0-9._+/-]+$")
_GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_ADLER32 = re.compile(r"^[0-9a-f]{8}$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_INT64 = 2**63 - 1

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str


_SHOWN = 60


def shown(value: object) -> str:
    """A value quoted in a message, cut short: a report may hold megabytes in one field."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} characters)"


def describe_path(path: Path) -> str:
    """``("OutputFile", 2, "Size")`` -> ``OutputFile[2].Size`` (0-based indexes)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def raise_problems(
    problems: list[Problem], source: str, locate: Callable[[Path], str] = describe_path
) -> None:
    if not problems:
        return
    shown = "; ".join(f"{locate(p.path)}: {p.message}" for p in problems[:10])
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    prefix = f"{source}: " if source else ""
    raise ValidationError(
        f"{prefix}invalid job report: {shown}{more}", problems=[p.message for p in problems]
    )


def check_report(report: JobReport) -> list[Problem]:
    problems: list[Problem] = []
    fail = _Fail(problems)
    _check_text(fail, ("ConfigName",), report.config_name, 128)
    _check_text(fail, ("ConfigVersion",), report.config_version, 128)
    _check_text(fail, ("Conditions",), report.conditions, VALUE_LENGTH)
    _check_text(fail, ("ProcessingPass",), report.processing_pass, VALUE_LENGTH)
    if report.job_date.tzinfo is not None:
        fail(("Date",), "must be a naive UTC date and time")
    if not 0 < report.dirac_job_id <= MAX_INT64:
        fail(("DIRAC_JobID",), "must be a positive integer")
    if not 0 < report.production <= 99_999_999:
        fail(("Production",), "must be 1..99999999")
    if report.run is not None and not 0 < report.run <= MAX_INT64:
        fail(("RunNumber",), "must be a positive integer")
    _check_parameters(fail, ("TypedParameter",), report.parameters, RESERVED_JOB_PARAMETERS)
    for index, spec in enumerate(report.event_types):
        if not 10_000_000 <= spec.event_type <= 99_999_999:
            fail(("EventType", index, "TypeId"), "must be an 8-digit event type")
        _check_text(fail, ("EventType", index, "Description"), spec.description, 255)
        if len(spec.primary) > 255:
            fail(("EventType", index, "Primary"), "longer than 255 characters")
        if len(spec.decay) > 255:
            fail(("EventType", index, "Decay"), "longer than 255 characters")
        _check_no_nul(fail, ("EventType", index, "Primary"), spec.primary)
        _check_no_nul(fail, ("EventType", index, "Decay"), spec.decay)
    inputs: set[str] = set()
    for index, lfn in enumerate(report.input_files):
        _check_lfn(fail, ("InputFile", index, "Name"), lfn)
        if lfn in inputs:
            fail(("InputFile", index, "Name"), f"{lfn} is listed twice")
        inputs.add(lfn)
    outputs: set[str] = set()
    for index, output in enumerate(report.output_files):
        _check_output(fail, ("OutputFile", index), output)
        if output.lfn in outputs:
            fail(("OutputFile", index, "Name"), f"{output.lfn} is listed twice")
        if output.lfn in inputs:
            fail(("OutputFile", index, "Name"), f"{output.lfn} is also an input file")
        outputs.add(output.lfn)
    return problems


class _Fail:
    """Records a problem; checks call it only when something is wrong (the bulk path
    validates millions of fields, so messages are built only for failures)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def __call__(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))


def _check_text(fail: _Fail, path: Path, value: str, limit: int) -> None:
    if not value.strip():
        fail(path, "must not be empty")
    if len(value) > limit:
        fail(path, f"longer than {limit} characters")
    _check_no_nul(fail, path, value)


def _check_no_nul(fail: _Fail, path: Path, value: str) -> None:
    # PostgreSQL cannot store a NUL in text; refusing it everywhere keeps the back-ends alike
    # (a report recorded on SQLite must not be refused by PostgreSQL).
    if "\x00" in value:
        fail(path, "contains a NUL character")


def _check_lfn(fail: _Fail, path: Path, lfn: str) -> None:
    if len(lfn) > LFN_LENGTH:
        fail(path, f"LFN longer than {LFN_LENGTH} characters")
    if not _LFN.match(lfn) or "//" in lfn or "/../" in lfn + "/":
        fail(path, f"{shown(lfn)} is not an absolute LFN of letters, digits and ._+-/")


def _check_parameters(
    fail: _Fail, prefix: Path, parameters: tuple[tuple[str, str], ...], reserved: frozenset[str]
) -> None:
    names: set[str] = set()
    for name, value in parameters:
        if not _NAME.match(name) or len(name) > NAME_LENGTH:
            fail((*prefix, name), "is not a valid name")
        if name in reserved:
            fail((*prefix, name), "is set by the report's own fields; give it there")
        if name in names:
            fail((*prefix, name), "is given twice")
        if len(value) > VALUE_LENGTH:
            fail((*prefix, name), f"value longer than {VALUE_LENGTH} characters")
        _check_no_nul(fail, (*prefix, name), value)
        names.add(name)


def _check_output(fail: _Fail, path: Path, output: OutputFileSpec) -> None:
    _check_lfn(fail, (*path, "Name"), output.lfn)
    _check_text(fail, (*path, "TypeName"), output.file_type, VALUE_LENGTH)
    _check_text(fail, (*path, "TypeVersion"), output.file_type_version, VALUE_LENGTH)
    if not _GUID.match(output.guid):
        fail((*path, "GUID"), f"{shown(output.guid)} is not a GUID")
    if not 0 <= output.size <= MAX_INT64:
        fail((*path, "Size"), "must be a non-negative integer")
    if not 0 <= output.events <= MAX_INT64:
        fail((*path, "EventStat"), "must be a non-negative integer")
    if not _ADLER32.match(output.checksum):
        fail((*path, "ADLER32"), f"{shown(output.checksum)} is not 8 lower-case hex digits")
    if output.state not in LIFE_CYCLE_STATES:
        states = ", ".join(LIFE_CYCLE_STATES)
        fail((*path, "State"), f"{shown(output.state)} is not one of {states}")
    if not 10_000_000 <= output.event_type <= 99_999_999:
        fail((*path, "EventType"), "must be an 8-digit event type")
    if output.creation_time.tzinfo is not None:
        fail((*path, "CreationDate"), "must be naive UTC")
    if output.parameters:
        _check_parameters(fail, (*path, "Parameter"), output.parameters, RESERVED_FILE_PARAMETERS)
    copies: set[tuple[str, str, str]] = set()
    for index, replica in enumerate(output.replicas):
        _check_replica(fail, (*path, "Replica", index), replica)
        key = (replica.site, replica.storage_class, replica.area)
        if key in copies:
            fail((*path, "Replica", index), "the same copy is listed twice")
        copies.add(key)
    groups: set[str] = set()
    for index, quality in enumerate(output.quality):
        where = (*path, "Quality", index)
        if not _NAME.match(quality.group) or len(quality.group) > NAME_LENGTH:
            fail((*where, "Group"), f"{shown(quality.group)} is not a valid group name")
        _check_text(fail, (*where, "Flag"), quality.flag, VALUE_LENGTH)
        if quality.group in groups:
            fail((*where, "Group"), "given twice")
        groups.add(quality.group)


def _check_replica(fail: _Fail, where: Path, replica: ReplicaSpec) -> None:
    if not _SITE.match(replica.site) or len(replica.site) > SITE_LENGTH:
        fail((*where, "Location"), f"{shown(replica.site)} is not a site name")
    if replica.storage_class not in STORAGE_CLASSES:
        fail(
            (*where, "StorageClass"),
            f"{shown(replica.storage_class)} is not one of {', '.join(STORAGE_CLASSES)}",
        )
    if (replica.storage_class == "recall") != bool(replica.area.strip()):
        fail((*where, "Area"), "a recall copy needs an area, and only a recall copy has one")
    if len(replica.area) > AREA_LENGTH:
        fail((*where, "Area"), f"longer than {AREA_LENGTH} characters")
    if replica.status not in REPLICA_STATUSES:
        known = ", ".join(REPLICA_STATUSES)
        fail((*where, "Status"), f"{shown(replica.status)} is not one of {known}")
    if len(replica.pfn) > PFN_LENGTH:
        fail((*where, "Name"), f"longer than {PFN_LENGTH} characters")
    _check_no_nul(fail, (*where, "Area"), replica.area)
    _check_no_nul(fail, (*where, "Name"), replica.pfn)
    _check_storage(fail, where, replica)


def _check_storage(fail: _Fail, where: Path, replica: ReplicaSpec) -> None:
    """A copy on a storage element names it and the file's path there, or neither."""
    if replica.se and (not _SITE.match(replica.se) or len(replica.se) > SE_LENGTH):
        fail((*where, "SE"), f"{shown(replica.se)} is not a storage element name")
    if bool(replica.se) != bool(replica.path):
        fail((*where, "Path"), "a copy on a storage element needs both its name and a path")
    if replica.path:
        parts = replica.path.split("/")
        if (
            not replica.path.startswith("/")
            or "\x00" in replica.path
            or any(part in (".", "..") for part in parts)
            or len(replica.path) > SE_PATH_LENGTH
        ):
            fail(
                (*where, "Path"),
                f"{shown(replica.path)} is not an absolute path below the storage element's root",
            )


def validate_report(report: JobReport, locate: Callable[[Path], str] = describe_path) -> None:
    """Raise ``ValidationError`` listing every problem of the report (nothing is written)."""
    raise_problems(check_report(report), report.source, locate)


def lfn_problems(lfn: str) -> list[str]:
    """What is wrong with ``lfn`` as an LFN (empty: nothing)."""
    problems: list[Problem] = []
    _check_lfn(_Fail(problems), (), lfn)
    return [p.message for p in problems]


def replica_problems(replica: ReplicaSpec) -> list[str]:
    """What is wrong with a copy (site, storage class, area, status, PFN), as a report's
    ``Replica`` element would be checked; each message names the field."""
    problems: list[Problem] = []
    _check_replica(_Fail(problems), (), replica)
    return [f"{describe_path(p.path)}: {p.message}" for p in problems]
