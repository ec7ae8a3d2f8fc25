"""One row per file with named attributes, built from the warehouse tables on demand.

Most file attributes are rows of the name/value tables, so each attribute a query uses is
one more (self-)join: ``files`` joined to ``fileParams`` as ``p_size`` on name ``Size``, to
``jobParams`` as ``p_production`` on name ``Production``, and so on. ``FileView`` adds a
join only when a query first asks for that attribute, so a query pays for what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bookkeeping.warehouse.tables import (
    event_types,
    file_params,
    files,
    job_params,
    jobs,
    quality_params,
    type_params,
)
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
)

DATA_QUALITY_GROUP = "DQ"  # same as bookkeeping.interface.DATA_QUALITY_GROUP


@dataclass(frozen=True)
class _Param:
    table: sa.Table
    owner: str  # "file", "job" or "type": which id the parameter belongs to
    name: str
    numeric: bool = False
    optional: bool = False  # outer join: the parameter may be missing


_PARAMETERS: dict[str, _Param] = {
    "guid": _Param(file_params, "file", FILE_PARAMETER_GUID),
    "size": _Param(file_params, "file", FILE_PARAMETER_SIZE, numeric=True),
    "events": _Param(file_params, "file", FILE_PARAMETER_EVENTS, numeric=True),
    "eventtype": _Param(file_params, "file", FILE_PARAMETER_EVENT_TYPE, numeric=True),
    "checksum": _Param(file_params, "file", FILE_PARAMETER_CHECKSUM),
    "production": _Param(job_params, "job", JOB_PARAMETER_PRODUCTION, numeric=True),
    "run": _Param(job_params, "job", JOB_PARAMETER_RUN, numeric=True, optional=True),
    "conditions": _Param(job_params, "job", JOB_PARAMETER_CONDITIONS),
    "processingpass": _Param(job_params, "job", JOB_PARAMETER_PROCESSING_PASS),
    "diracjobid": _Param(job_params, "job", JOB_PARAMETER_DIRAC_JOB_ID, numeric=True),
    "filetype": _Param(type_params, "type", TYPE_PARAMETER_NAME),
    "quality": _Param(quality_params, "file", DATA_QUALITY_GROUP, optional=True),
}

_COLUMNS = {
    "fileid": files.c.file_id,
    "lfn": files.c.logname,
    "jobid": files.c.job_id,
    "creation": files.c.creationdate,
    "visible": files.c.visible,
    "config": jobs.c.configname,
    "configversion": jobs.c.configversion,
    "jobdate": jobs.c.jobdate,
}

NUMERIC_ATTRIBUTES = frozenset(
    {"fileid", "jobid"} | {key for key, spec in _PARAMETERS.items() if spec.numeric}
)


class FileView:
    """Attributes of files by name; ``source`` grows the joins the attributes need."""

    def __init__(self) -> None:
        self.source: sa.FromClause = files.join(jobs, jobs.c.job_id == files.c.job_id)
        self._cache: dict[str, sa.ColumnElement] = {}

    def __getitem__(self, key: str) -> sa.ColumnElement:
        if key in self._cache:
            return self._cache[key]
        if key in _COLUMNS:
            column: sa.ColumnElement = _COLUMNS[key]
        elif key == "eventdescription":
            column = self._event_description()
        elif key == "eventdecay":
            self["eventdescription"]  # joins the event types
            column = event_types.c.decay
        else:
            column = self._parameter(key, _PARAMETERS[key])
        self._cache[key] = column
        return column

    def _parameter(self, key: str, spec: _Param) -> sa.ColumnElement:
        alias = spec.table.alias(f"p_{key}")
        owner = {"file": files.c.file_id, "job": files.c.job_id, "type": files.c.type_id}
        on = sa.and_(
            alias.c[spec.table.primary_key.columns.keys()[0]] == owner[spec.owner],
            alias.c.name == spec.name,
        )
        self.source = (
            self.source.outerjoin(alias, on) if spec.optional else self.source.join(alias, on)
        )
        value: sa.ColumnElement = alias.c.value
        return sa.cast(value, sa.BigInteger) if spec.numeric else value

    def _event_description(self) -> sa.ColumnElement:
        event_type = self["eventtype"]
        self.source = self.source.join(event_types, event_types.c.type_id == event_type)
        return event_types.c.description
