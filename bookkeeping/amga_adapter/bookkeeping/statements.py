"""The catalogue bookkeeping's statements as SQLAlchemy Core, for prepared reads
(``bookkeeping.amga_adapter.engine.prepared``): one statement per call, every value bound.

Each builder takes the ``Source`` of each directory it named (readable entries only) and
returns the statement with its meta. They mean exactly what the query-language text of
``records``/``reader`` means: strings compared by code point (``binary_match``, which on
PostgreSQL is also the collation the engine's indexes are built in), inner joins between
the record's directories, and the data-quality flag as a LEFT JOIN (many files have none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.engine.prepared import Prepared, Source
from bookkeeping.amga_adapter.query.constructs import (
    CaseSensitiveLike,
    LikePattern,
    binary_match,
    binary_order,
)
from bookkeeping.interface import DATA_QUALITY_GROUP, FileRecord

# The directories of a file record, in the order the builders take them.
RECORD_DIRECTORIES = (
    L.FILES,
    L.FILE_PARAMS,
    L.JOBS,
    L.JOB_PARAMS,
    L.TYPE_PARAMS,
    L.QUALITY_PARAMS,
)


def record_columns(sources: Sequence[Source]) -> tuple[list[sa.ColumnElement[Any]], sa.FromClause]:
    """A file record's columns (``record``'s order) and the joins they come from."""
    f, p, j, jp, t, q = sources
    joined = (
        f.table.join(p.table, p["FILE_ID"] == f["FILE_ID"])
        .join(j.table, j["JOB_ID"] == f["JOB_ID"])
        .join(jp.table, jp["JOB_ID"] == f["JOB_ID"])
        .join(t.table, t["TYPE_ID"] == f["TYPE_ID"])
        .outerjoin(
            q.table,
            sa.and_(
                q["FILE_ID"] == f["FILE_ID"],
                binary_match(q["Group"]) == sa.literal(DATA_QUALITY_GROUP),
            ),
        )
    )
    columns = [
        f["FILE_ID"],
        f["LOGNAME"],
        p["GUID"],
        p["Size"],
        p["EventStat"],
        p["ADLER32"],
        t["Name"],
        p["EventType"],
        f["JOB_ID"],
        jp["Production"],
        jp["RunNumber"],
        f["CREATIONDATE"],
        f["VISIBLE"],
        q["Flag"],
    ]
    return columns, joined


def record(row: Sequence[Any]) -> FileRecord:
    (fid, lfn, guid, size, events, checksum, ftype, etype, job, prod, run, made, visible, dq) = row
    return FileRecord(
        file_id=int(fid),
        lfn=lfn,
        guid=guid,
        size=int(size),
        events=int(events),
        checksum=checksum,
        file_type=ftype,
        event_type=int(etype),
        job_id=int(job),
        production=int(prod),
        run=None if run is None else int(run),
        creation_time=made,
        visible=bool(visible),
        quality=dq,
    )


def records_by(key: str) -> Any:
    """Builder: the records whose file id (``key`` "fileid") or LFN ("lfn") is one of the
    expanding parameter ``values``."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        columns, joined = record_columns(sources)
        f = sources[0]
        if key == "fileid":
            where = f["FILE_ID"].in_(sa.bindparam("values", expanding=True))
        else:
            where = binary_match(f["LOGNAME"]).in_(sa.bindparam("values", expanding=True))
        return Prepared(sa.select(*columns).select_from(joined).where(where), None)

    return build


def search(lfn: bool, guid: bool, production: bool, run: bool) -> Any:
    """Builder: the records meeting the given criteria (bound as ``lfn`` (a LIKE pattern),
    ``guid``, ``production``, ``run``), by LFN, at most ``limit``."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        columns, joined = record_columns(sources)
        f, p, _, jp = sources[:4]
        parts: list[sa.ColumnElement[bool]] = []
        if lfn:
            parts.append(
                CaseSensitiveLike(f["LOGNAME"], sa.bindparam("lfn", type_=LikePattern()), False)
            )
        if guid:
            parts.append(binary_match(p["GUID"]) == sa.bindparam("guid", type_=sa.String()))
        if production:
            parts.append(jp["Production"] == sa.bindparam("production", type_=sa.BigInteger()))
        if run:
            parts.append(jp["RunNumber"] == sa.bindparam("run", type_=sa.BigInteger()))
        statement = (
            sa.select(*columns)
            .select_from(joined)
            .where(*parts)
            .order_by(binary_order(f["LOGNAME"]), f["FILE_ID"])
            .limit(sa.bindparam("limit", type_=sa.Integer()))
        )
        return Prepared(statement, None)

    return build


def parameters(directory: str) -> Any:
    """Builder: every parameter of the owner whose entry is ``name`` in ``directory``;
    meta: the attribute names, in the order of the columns."""
    key = L.PARAMETER_KEYS[directory]

    def build(sources: Sequence[Source]) -> Prepared[tuple[str, ...]]:
        (source,) = sources
        names = tuple(name for name in source.info.attributes if name != key)
        columns = [source[name] for name in names] or [sa.literal(None)]
        statement = sa.select(*columns).where(source.entry_name == sa.bindparam("name"))
        return Prepared(statement, names)

    return build


def parameter(attribute: str) -> Any:
    """Builder: one parameter (``attribute``) of the owner whose entry is ``name``."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        (source,) = sources
        statement = sa.select(source[attribute]).where(source.entry_name == sa.bindparam("name"))
        return Prepared(statement, None)

    return build


def parameter_where(wanted: str, known: str, numeric: bool) -> Any:
    """Builder: ``wanted`` of the owners whose ``known`` is ``value`` (seed 001's query)."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        (source,) = sources
        value_type: sa.types.TypeEngine[Any] = sa.BigInteger() if numeric else sa.String()
        known_column = source[known]
        condition = (
            known_column == sa.bindparam("value", type_=value_type)
            if numeric
            else binary_match(known_column) == sa.bindparam("value", type_=value_type)
        )
        statement = sa.select(source[wanted]).where(condition, source[wanted].is_not(None))
        return Prepared(statement, None)

    return build


JOB_ITEMS = ("JOB_ID", "CONFIGNAME", "CONFIGVERSION", "JOBDATE")


def job(parameter_names: Sequence[str]) -> Any:
    """Builder: a job (entry ``name`` of ``/jobs``) with its ``parameter_names``."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        jobs, params = sources
        columns = [jobs[item] for item in JOB_ITEMS]
        columns += [params[L.attribute_name(L.JOB_PARAMS, name)] for name in parameter_names]
        statement = (
            sa.select(*columns)
            .select_from(jobs.table.join(params.table, params.entry_name == jobs.entry_name))
            .where(jobs.entry_name == sa.bindparam("name"))
        )
        return Prepared(statement, None)

    return build


def quality_flags(sources: Sequence[Source]) -> Prepared[None]:
    (q,) = sources
    statement = sa.select(q["Group"], q["Flag"]).where(
        q["FILE_ID"] == sa.bindparam("file_id", type_=sa.BigInteger())
    )
    return Prepared(statement, None)


def relatives(ancestors: bool) -> Any:
    """Builder: the next generation of the files ``values`` (expanding): their jobs' input
    files (``ancestors``) or the outputs of the jobs reading them."""

    def build(sources: Sequence[Source]) -> Prepared[None]:
        inputs, files = sources
        joined = inputs.table.join(files.table, inputs["JOB_ID"] == files["JOB_ID"])
        if ancestors:
            found, known = inputs["FILE_ID"], files["FILE_ID"]
        else:
            found, known = files["FILE_ID"], inputs["FILE_ID"]
        statement = (
            sa.select(found)
            .select_from(joined)
            .where(known.in_(sa.bindparam("values", expanding=True)))
            .distinct()
        )
        return Prepared(statement, None)

    return build


def names_and_types(sources: Sequence[Source]) -> Prepared[None]:
    """Builder: file id, LFN and file type of the files ``values`` (expanding)."""
    files, types = sources
    statement = (
        sa.select(files["FILE_ID"], files["LOGNAME"], types["Name"])
        .select_from(files.table.join(types.table, types["TYPE_ID"] == files["TYPE_ID"]))
        .where(files["FILE_ID"].in_(sa.bindparam("values", expanding=True)))
    )
    return Prepared(statement, None)


REPLICA_ITEMS = ("FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA")
REPLICA_PLACES = ("SE", "SEPATH")  # absent from a site directory laid out before them


def replicas(sources: Sequence[Source]) -> Prepared[tuple[str, ...]]:
    """Builder: the copies of the files ``values`` (expanding) in every site directory,
    each row led by the index of its site; meta: the site names."""
    selects = []
    for index, site in enumerate(sources):
        if not all(site.has(item) for item in REPLICA_ITEMS):
            continue  # a site directory a writer is creating: no copies yet
        places = [
            site[item] if site.has(item) else sa.cast(sa.null(), sa.String(512))
            for item in REPLICA_PLACES
        ]
        selects.append(
            sa.select(
                sa.literal(index).label("site"),
                *(site[item] for item in REPLICA_ITEMS),
                *places,
            )
            .where(site["FILE_ID"].in_(sa.bindparam("values", expanding=True)))
            .where(site["AREA"].is_not(None), site["REPLICA"].is_not(None))
        )
    names = tuple(source.path.rsplit("/", 1)[-1] for source in sources)
    statement: sa.Executable = (
        sa.union_all(*selects) if len(selects) > 1 else selects[0] if selects else _no_rows()
    )
    return Prepared(statement, names)


def _no_rows() -> sa.Select[Any]:
    return sa.select(sa.literal(0)).where(sa.false())
