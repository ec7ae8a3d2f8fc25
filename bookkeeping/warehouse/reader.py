"""The warehouse implementation of ``bookkeeping.interface.Bookkeeping`` (direct SQL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from bookkeeping.chunking import chunked
from bookkeeping.engines import read_connection
from bookkeeping.errors import ValidationError
from bookkeeping.interface import (
    DatasetPath,
    FileOrder,
    FileRecord,
    FilesPage,
    JobRecord,
    Level,
    LevelValue,
    LfnMetadata,
    ListedFile,
    ListingQuery,
    Parameter,
    QualityFlag,
    Relative,
    Replica,
    StorageShare,
)
from bookkeeping.warehouse import dataset
from bookkeeping.warehouse.fileview import NUMERIC_ATTRIBUTES, FileView
from bookkeeping.warehouse.listing import group_locations, listing_filters, listing_select
from bookkeeping.warehouse.provenance import CHILDREN, PARENTS, relatives
from bookkeeping.warehouse.tables import (
    file_params,
    files,
    job_params,
    jobs,
    replicas,
)
from bookkeeping.warehouse.tables import quality_params as quality_table
from bookkeeping.writer.lifecycle import LifeCycleState, checked_state, stored_state
from bookkeeping.writer.model import (
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
)

STREAM_BATCH = 1000
IN_CHUNK = 500
_RECORD_KEYS = (
    "fileid", "lfn", "guid", "size", "events", "checksum", "filetype", "eventtype",
    "jobid", "production", "run", "creation", "visible", "quality",
)  # fmt: skip
_LEVEL_KEYS = {
    Level.CONFIG_NAME: "config",
    Level.CONFIG_VERSION: "configversion",
    Level.CONDITIONS: "conditions",
    Level.PROCESSING_PASS: "processingpass",
    Level.EVENT_TYPE: "eventtype",
    Level.FILE_TYPE: "filetype",
    Level.PRODUCTION: "production",
}
_ORDER_KEYS: dict[str, str] = {
    "lfn": "lfn",
    "size": "size",
    "events": "events",
    "run": "run",
    "production": "production",
    "creation": "creation",
    "file_id": "fileid",
}
# Binary (code point) string order on every back-end, whatever the database's collation.
_BINARY_COLLATION = {"postgresql": "C", "mysql": "utf8mb4_bin", "mariadb": "utf8mb4_bin"}


def _record(row: Row) -> FileRecord:
    values = row._mapping
    return FileRecord(
        file_id=int(values["fileid"]),
        lfn=values["lfn"],
        guid=values["guid"],
        size=int(values["size"]),
        events=int(values["events"]),
        checksum=values["checksum"],
        file_type=values["filetype"],
        event_type=int(values["eventtype"]),
        job_id=int(values["jobid"]),
        production=int(values["production"]),
        run=None if values["run"] is None else int(values["run"]),
        creation_time=values["creation"],
        visible=bool(values["visible"]),
        quality=values["quality"],
    )


class WarehouseBookkeeping:
    """Reads the warehouse tables; every method opens (and closes) its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._collation = _BINARY_COLLATION.get(engine.dialect.name)

    def _connect(self) -> AbstractContextManager[Connection]:
        """The one place where statements meet a database: everything else builds the
        statements and shapes their rows. ``JdbcBookkeeping`` overrides it to run the same
        statements through ``bookkeeping.jdbc_compat`` on the catalogue."""
        return read_connection(self.engine)  # a read replica's, when it has any

    # --- helpers --------------------------------------------------------------------

    def _sortable(self, key: str, column: sa.ColumnElement) -> sa.ColumnElement:
        if key in NUMERIC_ATTRIBUTES or key in {"creation", "visible"} or not self._collation:
            return column
        return column.collate(self._collation)

    def _record_select(self, view: FileView) -> sa.Select:
        columns = [view[key].label(key) for key in _RECORD_KEYS]
        return sa.select(*columns).select_from(view.source)

    def _order(self, view: FileView, order_by: FileOrder, descending: bool) -> list:
        key = _ORDER_KEYS[order_by]
        column = view[key]
        sortable = self._sortable(key, column)
        # NULLs last in both directions, on every back-end.
        return [
            sa.case((column.is_(None), 1), else_=0),
            sortable.desc() if descending else sortable.asc(),
            view["fileid"].asc(),
        ]

    def _records_in_order(self, connection: Connection, ids: list[int]) -> list[FileRecord]:
        """The records of ``ids``, in that order (chunks of ``IN_CHUNK`` ids)."""
        by_id: dict[int, FileRecord] = {}
        for chunk in chunked(ids, IN_CHUNK):
            view = FileView()
            query = self._record_select(view).where(files.c.file_id.in_(chunk))
            for row in connection.execute(query.select_from(view.source)):
                record = _record(row)
                by_id[record.file_id] = record
        return [by_id[int(file_id)] for file_id in ids]

    def _records(self, where: sa.ColumnElement[bool] | None) -> list[FileRecord]:
        view = FileView()
        query = self._record_select(view)
        if where is not None:
            query = query.where(where)
        with self._connect() as connection:
            return [_record(row) for row in connection.execute(query.select_from(view.source))]

    # --- dataset navigation ---------------------------------------------------------

    def level_values(self, level: Level, path: DatasetPath | None = None) -> list[LevelValue]:
        path = path or DatasetPath()
        view = FileView()
        described = level is Level.EVENT_TYPE
        value = view[_LEVEL_KEYS[level]]
        group = [value, view["eventdescription"], view["eventdecay"]] if described else [value]
        totals = [
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(view["events"]), 0),
            sa.func.coalesce(sa.func.sum(view["size"]), 0),
        ]
        query = sa.select(*group, *totals).where(*dataset.restrict(view, path)).group_by(*group)
        with self._connect() as connection:
            rows = connection.execute(query.select_from(view.source)).all()
        values = [
            LevelValue(
                value=row[0] if isinstance(row[0], str) else int(row[0]),
                files=int(row[-3]),
                events=int(row[-2]),
                bytes=int(row[-1]),
                description=row[1] if described else None,
                decay=(row[2] or None) if described else None,
            )
            for row in rows
        ]
        return sorted(values, key=lambda item: item.value)

    def files(
        self,
        path: DatasetPath,
        *,
        offset: int = 0,
        limit: int | None = None,
        order_by: FileOrder = "lfn",
        descending: bool = False,
    ) -> FilesPage:
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError(
                f"offset ({offset}) and limit ({limit}) must not be negative", offset=offset
            )
        totals_view, ids_view = FileView(), FileView()
        totals = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(totals_view["events"]), 0),
            sa.func.coalesce(sa.func.sum(totals_view["size"]), 0),
        ).where(*dataset.restrict(totals_view, path))
        # The page's ids first, joining only the attribute it is ordered by; then the
        # records of those ids alone (late materialisation: dataset.py).
        page = (
            sa.select(ids_view["fileid"])
            .where(*dataset.restrict(ids_view, path))
            .order_by(*self._order(ids_view, order_by, descending))
            .offset(offset)
            .limit(limit)
        )
        with self._connect() as connection:
            count, events, size = connection.execute(totals.select_from(totals_view.source)).one()
            ids = list(connection.scalars(page.select_from(ids_view.source))) if count else []
            found = self._records_in_order(connection, ids)
        return FilesPage(
            files=tuple(found),
            total_files=int(count),
            total_events=int(events),
            total_bytes=int(size),
            offset=offset,
            limit=limit,
        )

    def iter_files(
        self, path: DatasetPath, *, order_by: FileOrder = "lfn", descending: bool = False
    ) -> Iterator[FileRecord]:
        # As a page of ``files``: the ordered ids first, joining only the attribute they are
        # ordered by, then the records IN_CHUNK ids at a time. One statement joining the
        # dozen attributes of every record to the path's filters let PostgreSQL's planner
        # pick nested loops over the name/value rows: seconds for a few hundred files.
        view = FileView()
        ordered = (
            sa.select(view["fileid"])
            .where(*dataset.restrict(view, path))
            .order_by(*self._order(view, order_by, descending))
        )
        with self._connect() as connection:
            ids = [int(file_id) for file_id in connection.scalars(ordered.select_from(view.source))]
        for chunk in chunked(ids, IN_CHUNK):
            with self._connect() as connection:
                yield from self._records_in_order(connection, chunk)

    # --- single files ---------------------------------------------------------------

    def file_by_id(self, file_id: int) -> FileRecord | None:
        found = self._records(files.c.file_id == file_id)
        return found[0] if found else None

    def file_by_lfn(self, lfn: str) -> FileRecord | None:
        found = self._records(files.c.logname == lfn)
        return found[0] if found else None

    def files_metadata(self, lfns: Sequence[str]) -> LfnMetadata:
        wanted = sorted(set(lfns))
        found: list[FileRecord] = []
        for chunk in chunked(wanted, IN_CHUNK):
            found.extend(self._records(files.c.logname.in_(chunk)))
        found.sort(key=lambda record: record.lfn)
        known = {record.lfn for record in found}
        return LfnMetadata(tuple(found), tuple(lfn for lfn in wanted if lfn not in known))

    def file_parameter(self, file_id: int, name: str) -> str | None:
        query = sa.select(file_params.c.value).where(
            file_params.c.file_id == file_id, file_params.c.name == name
        )
        with self._connect() as connection:
            return connection.scalar(query)

    def file_parameters(self, file_id: int) -> tuple[Parameter, ...]:
        return self._parameters(file_params, file_params.c.file_id == file_id)

    def parameter_where(self, name: str, where_name: str, where_value: str) -> tuple[str, ...]:
        # The seed's self-join: SELECT p2.value FROM fileparams p1, fileparams p2
        # WHERE p1.file_id = p2.file_id AND p1.name = ? AND p1.value = ? AND p2.name = ?
        known = file_params.alias("p1")
        wanted = file_params.alias("p2")
        query = (
            sa.select(wanted.c.value)
            .join_from(known, wanted, known.c.file_id == wanted.c.file_id)
            .where(known.c.name == where_name, known.c.value == where_value)
            .where(wanted.c.name == name)
        )
        with self._connect() as connection:
            return tuple(sorted(connection.scalars(query)))

    # --- jobs -----------------------------------------------------------------------

    def job(self, job_id: int) -> JobRecord | None:
        # Read from jobs directly: a job may have written no file.
        with self._connect() as connection:
            row = connection.execute(sa.select(jobs).where(jobs.c.job_id == job_id)).first()
            if row is None:
                return None
            params = dict(
                connection.execute(
                    sa.select(job_params.c.name, job_params.c.value).where(
                        job_params.c.job_id == job_id
                    )
                ).all()
            )
        run = params.get(JOB_PARAMETER_RUN)
        return JobRecord(
            job_id=int(row.job_id),
            config_name=row.configname,
            config_version=row.configversion,
            job_date=row.jobdate,
            production=int(params[JOB_PARAMETER_PRODUCTION]),
            run=None if run is None else int(run),
            conditions=params[JOB_PARAMETER_CONDITIONS],
            processing_pass=params[JOB_PARAMETER_PROCESSING_PASS],
            dirac_job_id=int(params[JOB_PARAMETER_DIRAC_JOB_ID]),
        )

    def job_parameters(self, job_id: int) -> tuple[Parameter, ...]:
        return self._parameters(job_params, job_params.c.job_id == job_id)

    def _parameters(self, table: sa.Table, where: sa.ColumnElement[bool]) -> tuple[Parameter, ...]:
        with self._connect() as connection:
            rows = connection.execute(sa.select(table.c.name, table.c.value).where(where)).all()
        return tuple(sorted(Parameter(name, value) for name, value in rows))

    # --- provenance, replicas, quality ----------------------------------------------

    def ancestors(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        with self._connect() as connection:
            return relatives(connection, file_id, depth, PARENTS)

    def descendants(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        with self._connect() as connection:
            return relatives(connection, file_id, depth, CHILDREN)

    def replicas(self, file_id: int) -> tuple[Replica, ...]:
        return self.replicas_of([file_id])[file_id]

    def storage_share(self, path: DatasetPath) -> StorageShare:
        with self._connect() as connection:
            return dataset.storage_share(connection, path)

    def shared_reads(self) -> AbstractContextManager[None]:
        return nullcontext()  # every call is its own statements: nothing read to share

    def quality_counts(self, path: DatasetPath, flags: Sequence[str]) -> dict[str, int]:
        with self._connect() as connection:
            return dataset.quality_counts(connection, path, flags)

    def replicas_of(self, file_ids: Sequence[int]) -> dict[int, tuple[Replica, ...]]:
        wanted = sorted(set(file_ids))
        found: dict[int, list[Replica]] = {file_id: [] for file_id in wanted}
        columns = (replicas.c.site, replicas.c.storageclass, replicas.c.area, replicas.c.status)
        with self._connect() as connection:
            for chunk in chunked(wanted, IN_CHUNK):
                query = sa.select(
                    replicas.c.file_id,
                    *columns,
                    replicas.c.replica,
                    replicas.c.se,
                    replicas.c.se_path,
                ).where(replicas.c.file_id.in_(chunk))
                for file_id, *values in connection.execute(query):
                    found[int(file_id)].append(Replica(*values))
        return {file_id: tuple(sorted(copies)) for file_id, copies in found.items()}

    def life_cycle(self, lfns: Sequence[str]) -> dict[str, LifeCycleState]:
        wanted = sorted(set(lfns))
        found: dict[str, LifeCycleState] = {}
        with self._connect() as connection:
            for chunk in chunked(wanted, IN_CHUNK):
                query = sa.select(files.c.logname, files.c.state).where(files.c.logname.in_(chunk))
                found.update((lfn, stored_state(state)) for lfn, state in connection.execute(query))
        return found

    def files_in_state(
        self, state: LifeCycleState, *, after: int = 0, limit: int = 1000
    ) -> tuple[tuple[int, str], ...]:
        checked_state(state)
        if limit < 0:
            raise ValidationError("limit must not be negative")
        query = (
            sa.select(files.c.file_id, files.c.logname)
            .where(files.c.state == state, files.c.file_id > after)
            .order_by(files.c.file_id)
            .limit(limit)
        )
        with self._connect() as connection:
            return tuple((int(i), str(lfn)) for i, lfn in connection.execute(query))

    def quality_flags(self, file_id: int) -> tuple[QualityFlag, ...]:
        query = sa.select(quality_table.c.name, quality_table.c.value).where(
            quality_table.c.file_id == file_id
        )
        with self._connect() as connection:
            rows = connection.execute(query).all()
        return tuple(sorted(QualityFlag(group, flag) for group, flag in rows))

    # --- search and listing ---------------------------------------------------------

    def search(
        self,
        *,
        lfn: str | None = None,
        guid: str | None = None,
        production: int | None = None,
        run: int | None = None,
        limit: int = 100,
    ) -> tuple[FileRecord, ...]:
        view = FileView()
        filters = []
        if lfn is not None:
            filters.append(view["lfn"].contains(lfn, autoescape=True))
        if guid is not None:
            filters.append(view["guid"] == guid)
        if production is not None:
            filters.append(view["production"] == production)
        if run is not None:
            filters.append(view["run"] == run)
        if not filters or limit <= 0:
            return ()
        query = self._record_select(view).where(*filters).order_by(*self._order(view, "lfn", False))
        if lfn is None:
            query = query.limit(limit)
        found: list[FileRecord] = []
        with self._connect() as connection:
            for row in _stream(connection, query.select_from(view.source)):
                record = _record(row)
                # LIKE ignores case on SQLite (and on case-insensitive MariaDB collations):
                # keep only exact substrings, so every back-end gives the same answer.
                if lfn is None or lfn in record.lfn:
                    found.append(record)
                    if len(found) >= limit:
                        break
        return tuple(found)

    def count_listing(self, query: ListingQuery) -> int:
        view = FileView()
        select = sa.select(sa.func.count()).where(*listing_filters(view, query))
        with self._connect() as connection:
            return int(connection.scalar(select.select_from(view.source)) or 0)

    def iter_listing(self, query: ListingQuery) -> Iterator[ListedFile]:
        view = FileView()
        select = listing_select(view, query, self._sortable("lfn", view["lfn"]))
        with self._connect() as connection:
            yield from group_locations(_stream(connection, select))


def _stream(connection: Connection, statement: sa.Select) -> Iterator[Row]:
    """Rows fetched in batches from a server-side cursor, closed even when the consumer
    stops early."""
    result = connection.execution_options(yield_per=STREAM_BATCH).execute(statement)
    try:
        yield from result
    finally:
        result.close()
