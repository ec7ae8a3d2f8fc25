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

from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa

from bookkeeping.interface import (
    AVAILABLE,
    STORAGE_FILTERS,
    DatasetPath,
    SiteShare,
    StorageFilter,
    StorageShare,
)
from bookkeeping.warehouse.fileview import FileView
from bookkeeping.warehouse.tables import (
    file_params,
    files,
    job_params,
    jobs,
    replicas,
    type_params,
)
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
    where.extend(_file_filters(view, path))
    return where


# DatasetPath file filter -> FileView attribute (numbers cast, run and quality outer-joined:
# a missing value compares as NULL, so such a file never meets the filter).
_FILTER_ATTRIBUTES = {
    "run_range": "run",
    "created_range": "creation",
    "events_range": "events",
    "size_range": "size",
}


def _file_filters(view: FileView, path: DatasetPath) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    for name, attribute in _FILTER_ATTRIBUTES.items():
        bounds = getattr(path, name)
        if bounds is None:
            continue
        low, high = bounds
        column = view[attribute]
        if low is not None:
            where.append(column >= low)
        if high is not None:
            where.append(column <= high)
        if low is None and high is None:
            where.append(column.is_not(None))
    if path.quality is not None:
        where.append(view["quality"] == path.quality)
    if path.site is not None:
        where.append(has_copy(site=path.site))
    if path.storage is not None:
        where.append(storage_kind(path.storage))
    return where


def has_copy(*, classes: tuple[str, ...] = (), site: str | None = None) -> sa.ColumnElement[bool]:
    """The file (of the outer ``files``) has an available copy of one of ``classes`` (any
    class when empty) and at ``site`` (any site when None): a probe of the replicas' primary
    key (file_id first) per file."""
    copy = replicas.alias("copy")
    conditions = [copy.c.file_id == files.c.file_id, copy.c.status == AVAILABLE]
    if classes:
        conditions.append(copy.c.storageclass.in_(classes))
    if site is not None:
        conditions.append(copy.c.site == site)
    return sa.exists().where(*conditions).correlate(files)


def storage_kind(kind: StorageFilter) -> sa.ColumnElement[bool]:
    """``DatasetPath.storage`` (``bookkeeping.interface.storage_kinds``) in SQL."""
    if kind == "disk":
        return has_copy(classes=("disk",))
    if kind == "recalled":
        return has_copy(classes=("recall",))
    return sa.and_(has_copy(classes=("tape",)), ~has_copy(classes=("disk", "recall")))


def storage_share(connection: sa.Connection, path: DatasetPath) -> StorageShare:
    """``Bookkeeping.storage_share`` in two statements: the sums per storage kind (one
    scan of the selection, each kind a probe of the replicas per file), then the files and
    bytes per site (distinct (site, file) pairs of available copies, grouped)."""
    view = FileView()
    size = sa.func.coalesce(view["size"], 0)
    sums: list[sa.ColumnElement] = [sa.func.count(), sa.func.coalesce(sa.func.sum(size), 0)]
    for kind in STORAGE_FILTERS:
        condition = storage_kind(kind)
        sums.append(sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0))
        sums.append(sa.func.coalesce(sa.func.sum(sa.case((condition, size), else_=0)), 0))
    on_disk = has_copy(classes=("disk", "recall"))
    sums.append(sa.func.coalesce(sa.func.sum(sa.case((on_disk, 1), else_=0)), 0))
    where = restrict(view, path)
    totals = connection.execute(sa.select(*sums).select_from(view.source).where(*where)).one()
    files_, bytes_, disk, disk_bytes, tape, tape_bytes, recalled, recalled_bytes, on_disk_ = (
        int(value) for value in totals
    )

    site_view = FileView()
    site_size = sa.func.coalesce(site_view["size"], 0).label("size")
    site_where = restrict(site_view, path)  # joins onto site_view.source: before reading it
    selected = (
        sa.select(files.c.file_id, site_size)
        .select_from(site_view.source)
        .where(*site_where)
        .subquery("selected")
    )
    at_site = (
        sa.select(replicas.c.site, selected.c.file_id, selected.c.size)
        .distinct()
        .select_from(
            selected.join(
                replicas,
                sa.and_(replicas.c.file_id == selected.c.file_id, replicas.c.status == AVAILABLE),
            )
        )
        .subquery("at_site")
    )
    per_site = sa.select(
        at_site.c.site, sa.func.count(), sa.func.coalesce(sa.func.sum(at_site.c.size), 0)
    ).group_by(at_site.c.site)
    sites = sorted(
        SiteShare(str(site), int(count), int(total))
        for site, count, total in connection.execute(per_site)
    )
    return StorageShare(
        files_,
        bytes_,
        disk,
        disk_bytes,
        tape,
        tape_bytes,
        recalled,
        recalled_bytes,
        on_disk_,
        tuple(sites),
    )


def quality_counts(
    connection: sa.Connection, path: DatasetPath, flags: Sequence[str]
) -> dict[str, int]:
    """``Bookkeeping.quality_counts`` in one statement: the selection without its quality
    filter, counted per flag (the flag asked only, so the other flags are not counted)."""
    counts = dict.fromkeys(flags, 0)
    if not counts:
        return counts
    view = FileView()
    flag = view["quality"]
    where = restrict(view, replace(path, quality=None))
    query = (
        sa.select(flag, sa.func.count())
        .select_from(view.source)
        .where(*where, flag.in_(list(counts)))
        .group_by(flag)
    )
    for value, count in connection.execute(query):
        counts[str(value)] = int(count)
    return counts
