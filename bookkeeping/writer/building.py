"""Turn a report in its neutral shape (the JSON shape, which XML is mapped onto) into a
``JobReport``, collecting every problem with its path instead of stopping at the first.

The neutral shape::

    {"ConfigName": "LHCb", "ConfigVersion": "Collision12", "Date": "2012-05-01",
     "Time": "12:00:00",
     "TypedParameters": {"DIRAC_JobID": "40000001", "Production": "12345",
                         "Conditions": "...", "ProcessingPass": "...", "RunNumber": "111000",
                         "CPUTime": "123.4", ...},
     "EventTypes": [{"TypeId": "90000000", "Description": "...", "Primary": "", "Decay": ""}],
     "InputFiles": ["/lhcb/..."],
     "OutputFiles": [{"Name": "/lhcb/...", "TypeName": "DST", "TypeVersion": "ROOT",
                      "CreationDate": "2012-05-01 12:00:00", "Visible": "Y",
                      "Parameters": {"GUID": "...", "Size": "...", "EventStat": "...",
                                     "EventType": "...", "ADLER32": "...", ...},
                      "Replicas": [{"Location": "CERN", "StorageClass": "tape",
                                    "Area": "", "Status": "available", "Name": "srm://..."}],
                      "Quality": [{"Group": "DQ", "Flag": "OK"}]}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

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
    EventTypeSpec,
    JobReport,
    OutputFileSpec,
    QualitySpec,
    ReplicaSpec,
)
from bookkeeping.writer.validation import Path, Problem, check_report, shown

JOB_FIELDS = frozenset(
    {"ConfigName", "ConfigVersion", "Date", "Time", "TypedParameters", "EventTypes",
     "InputFiles", "OutputFiles"}
)  # fmt: skip
OUTPUT_FIELDS = frozenset(
    {"Name", "TypeName", "TypeVersion", "CreationDate", "Visible", "Parameters", "Replicas",
     "Quality", "State"}
)  # fmt: skip
EVENT_TYPE_FIELDS = frozenset({"TypeId", "Description", "Primary", "Decay"})
REPLICA_FIELDS = frozenset({"Location", "StorageClass", "Area", "Status", "Name", "SE", "Path"})
QUALITY_FIELDS = frozenset({"Group", "Flag"})
_TRUE = {"y", "yes", "true", "1"}
_FALSE = {"n", "no", "false", "0"}


class _Builder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: Path, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.problem(path, "must be an object")
            return {}
        for key in sorted(set(value) - allowed, key=str):
            self.problem((*path, str(key)), f"unknown field; expected one of {sorted(allowed)}")
        return value

    def listing(self, value: Any, path: Path) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return []
        return value

    def text(
        self, data: Mapping[str, Any], key: str, path: Path, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if value is None:
            self.problem(path, "is missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, "must be a string")
            return ""
        return str(value)

    def integer(self, data: Mapping[str, Any], key: str, path: Path) -> int:
        value = data.get(key)
        if value is None:
            self.problem(path, "is missing")
            return 0
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            digits = value.strip().lstrip("0") or "0"
            if len(digits) > _MAX_DIGITS:  # int() of it could exceed Python's own limit
                self.problem(path, f"a number of {len(digits)} digits is beyond 64 bits")
                return 0
            return int(digits)
        self.problem(path, f"{shown(value)} is not a whole number")
        return 0

    def boolean(self, value: Any, path: Path) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        self.problem(path, f"{shown(value)} is not Y or N")
        return True

    def timestamp(self, text: str, path: Path) -> datetime:
        try:
            return datetime.fromisoformat(text.strip()).replace(microsecond=0)
        except ValueError:
            self.problem(path, f"{shown(text)} is not a date and time like 2012-05-01 12:00:00")
            return datetime(1970, 1, 1)

    def job_date(self, data: Mapping[str, Any]) -> datetime:
        day_text = self.text(data, "Date", ("Date",))
        time_text = self.text(data, "Time", ("Time",), default="00:00:00")
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError:
            self.problem(("Date",), f"{shown(day_text)} is not a date like 2012-05-01")
            return datetime(1970, 1, 1)
        try:
            moment = time.fromisoformat(time_text.strip())
        except ValueError:
            self.problem(("Time",), f"{shown(time_text)} is not a time like 12:00:00")
            return datetime(1970, 1, 1)
        return datetime.combine(day, moment).replace(microsecond=0, tzinfo=None)

    def extra_parameters(
        self, parameters: Mapping[str, Any], reserved: frozenset[str], path: Path
    ) -> tuple[tuple[str, str], ...]:
        extras = []
        for name in sorted(set(parameters) - reserved, key=str):
            value = parameters[name]
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                self.problem((*path, str(name)), "value must be a string or a number")
                continue
            extras.append((str(name), str(value)))
        return tuple(extras)


_JOB_RESERVED = frozenset(
    {JOB_PARAMETER_DIRAC_JOB_ID, JOB_PARAMETER_PRODUCTION, JOB_PARAMETER_RUN,
     JOB_PARAMETER_CONDITIONS, JOB_PARAMETER_PROCESSING_PASS}
)  # fmt: skip
_FILE_RESERVED = frozenset(
    {FILE_PARAMETER_GUID, FILE_PARAMETER_SIZE, FILE_PARAMETER_EVENTS, FILE_PARAMETER_EVENT_TYPE,
     FILE_PARAMETER_CHECKSUM}
)  # fmt: skip


_DIGITS = re.compile(r"[0-9]+", re.ASCII)  # str.isdigit() accepts "²", which int() refuses
_MAX_DIGITS = 20  # 2^64 has 20 digits; range checks come later (validation)


def build_report(data: Any, source: str) -> tuple[JobReport | None, list[Problem]]:
    """The report and its problems (building and validation); the report is None when
    the problems make it impossible to build."""
    b = _Builder()
    job = b.mapping(data, (), JOB_FIELDS)
    params = job.get("TypedParameters", {})
    if not isinstance(params, Mapping):
        b.problem(("TypedParameter",), "must be an object of name: value")
        params = {}
    job_date = b.job_date(job)
    run = params.get(JOB_PARAMETER_RUN)
    report_fields: dict[str, Any] = {
        "config_name": b.text(job, "ConfigName", ("ConfigName",)),
        "config_version": b.text(job, "ConfigVersion", ("ConfigVersion",)),
        "job_date": job_date,
        "dirac_job_id": b.integer(params, JOB_PARAMETER_DIRAC_JOB_ID, ("DIRAC_JobID",)),
        "production": b.integer(params, JOB_PARAMETER_PRODUCTION, ("Production",)),
        "conditions": b.text(params, JOB_PARAMETER_CONDITIONS, ("Conditions",)),
        "processing_pass": b.text(params, JOB_PARAMETER_PROCESSING_PASS, ("ProcessingPass",)),
        "run": None if run is None else b.integer(params, JOB_PARAMETER_RUN, ("RunNumber",)),
        "parameters": b.extra_parameters(params, _JOB_RESERVED, ("TypedParameter",)),
    }
    event_types = []
    for index, item in enumerate(b.listing(job.get("EventTypes"), ("EventType",))):
        path: Path = ("EventType", index)
        spec = b.mapping(item, path, EVENT_TYPE_FIELDS)
        event_types.append(
            EventTypeSpec(
                event_type=b.integer(spec, "TypeId", (*path, "TypeId")),
                description=b.text(spec, "Description", (*path, "Description")),
                primary=b.text(spec, "Primary", (*path, "Primary"), default=""),
                decay=b.text(spec, "Decay", (*path, "Decay"), default=""),
            )
        )
    inputs = []
    for index, item in enumerate(b.listing(job.get("InputFiles"), ("InputFile",))):
        if isinstance(item, str):
            inputs.append(item)
        else:
            b.problem(("InputFile", index, "Name"), "must be an LFN string")
    outputs = [
        _output(b, item, ("OutputFile", index), job_date)
        for index, item in enumerate(b.listing(job.get("OutputFiles"), ("OutputFile",)))
    ]
    report = JobReport(
        **report_fields,
        input_files=tuple(inputs),
        output_files=tuple(outputs),
        event_types=tuple(event_types),
        source=source,
    )
    if b.problems:
        return None, b.problems
    return report, check_report(report)


def _output(b: _Builder, item: Any, path: Path, job_date: datetime) -> OutputFileSpec:
    data = b.mapping(item, path, OUTPUT_FIELDS)
    raw_params = data.get("Parameters", {})
    if not isinstance(raw_params, Mapping):
        b.problem((*path, "Parameter"), "must be an object of name: value")
        raw_params = {}
    created = data.get("CreationDate")
    replicas = []
    for index, entry in enumerate(b.listing(data.get("Replicas"), (*path, "Replica"))):
        where: Path = (*path, "Replica", index)
        copy = b.mapping(entry, where, REPLICA_FIELDS)
        replicas.append(
            ReplicaSpec(
                site=b.text(copy, "Location", (*where, "Location")),
                storage_class=b.text(copy, "StorageClass", (*where, "StorageClass")),
                area=b.text(copy, "Area", (*where, "Area"), default=""),
                status=b.text(copy, "Status", (*where, "Status"), default="available"),
                pfn=b.text(copy, "Name", (*where, "Name"), default=""),
                se=b.text(copy, "SE", (*where, "SE"), default=""),
                path=b.text(copy, "Path", (*where, "Path"), default=""),
            )
        )
    quality = []
    for index, entry in enumerate(b.listing(data.get("Quality"), (*path, "Quality"))):
        where = (*path, "Quality", index)
        flag = b.mapping(entry, where, QUALITY_FIELDS)
        quality.append(
            QualitySpec(
                group=b.text(flag, "Group", (*where, "Group")),
                flag=b.text(flag, "Flag", (*where, "Flag")),
            )
        )
    return OutputFileSpec(
        lfn=b.text(data, "Name", (*path, "Name")),
        file_type=b.text(data, "TypeName", (*path, "TypeName")),
        file_type_version=b.text(data, "TypeVersion", (*path, "TypeVersion")),
        guid=b.text(raw_params, FILE_PARAMETER_GUID, (*path, "GUID")),
        size=b.integer(raw_params, FILE_PARAMETER_SIZE, (*path, "Size")),
        events=b.integer(raw_params, FILE_PARAMETER_EVENTS, (*path, "EventStat")),
        checksum=b.text(raw_params, FILE_PARAMETER_CHECKSUM, (*path, "ADLER32")),
        event_type=b.integer(raw_params, FILE_PARAMETER_EVENT_TYPE, (*path, "EventType")),
        creation_time=job_date
        if created is None
        else b.timestamp(str(created), (*path, "CreationDate")),
        visible=b.boolean(data.get("Visible", True), (*path, "Visible")),
        parameters=b.extra_parameters(raw_params, _FILE_RESERVED, (*path, "Parameter")),
        replicas=tuple(replicas),
        quality=tuple(quality),
        state=b.text(data, "State", (*path, "State"), default="closed"),
    )
