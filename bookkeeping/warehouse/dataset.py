"""Dataset selection on the warehouse: joining the rows a ``DatasetPath`` selects by.

What a competent relational implementation does with name/value tables (measured in
docs/views.md):

- each selected level is one inner join of its parameter table, restricted by name and
  value, so the planner may start from the most selective one: with the covering
  ``(name, value, job_id)`` index of ``jobParams`` (migration 0006), "the jobs of
  processing pass p" is an index range, and the files are reached through their job;
- numbers the writer stores as ``str(int)`` (event type, production) are compared as
  strings, so that index serves them too (a cast would hide the column from it);
- a page is chosen from the file ids and the one attribute it is ordered by; only its rows
  then get the dozen attribute joins of a ``FileRecord`` (late materialisation, see
  ``WarehouseBookkeeping.files``); totals read the two parameters they sum.

Joins rather than ``IN``/``EXISTS`` subqueries: SQLite's planner only reorders joins (a
correlated EXISTS is tested file by file, after the scan has begun from somewhere else),
and the reader's statements also run through ``bookkeeping.jdbc_compat``, which reads
joined name/value aliases as columns.
"""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.interface import DatasetPath
from bookkeeping.warehouse.fileview import FileView
from bookkeeping.warehouse.tables import file_params, files, job_params, jobs, type_params
from bookkeeping.writer.model import (
    FILE_PARAMETER_EVENT_TYPE,
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    TYPE_PARAMETER_NAME,
)


def restrict(view: FileView, path: DatasetPath) -> list[sa.ColumnElement[bool]]:
    """Join the parameter rows ``path`` selects by onto ``view.source``; the WHERE clauses
    that keep the files of ``path``."""
    where: list[sa.ColumnElement[bool]] = []
    if path.config_name is not None:
        where.append(jobs.c.configname == path.config_name)
    if path.config_version is not None:
        where.append(jobs.c.configversion == path.config_version)

    def parameter(table: sa.Table, owner: sa.ColumnElement[int], name: str) -> sa.ColumnElement:
        alias = table.alias(f"f_{name.lower()}")
        key = alias.c[table.primary_key.columns.keys()[0]]
        view.source = view.source.join(alias, sa.and_(key == owner, alias.c.name == name))
        return alias.c.value

    if path.conditions is not None:
        value = parameter(job_params, files.c.job_id, JOB_PARAMETER_CONDITIONS)
        where.append(value == path.conditions)
    if path.processing_pass is not None:
        value = parameter(job_params, files.c.job_id, JOB_PARAMETER_PROCESSING_PASS)
        where.append(value == path.processing_pass)
    if path.production is not None or path.production_range is not None:
        value = parameter(job_params, files.c.job_id, JOB_PARAMETER_PRODUCTION)
        if path.production is not None:
            where.append(value == str(path.production))
        if path.production_range is not None:
            first, last = path.production_range
            where.append(sa.cast(value, sa.BigInteger).between(first, last))
    if path.event_type is not None:
        value = parameter(file_params, files.c.file_id, FILE_PARAMETER_EVENT_TYPE)
        where.append(value == str(path.event_type))
    if path.file_type is not None:
        value = parameter(type_params, files.c.type_id, TYPE_PARAMETER_NAME)
        where.append(value == path.file_type)
    return where
