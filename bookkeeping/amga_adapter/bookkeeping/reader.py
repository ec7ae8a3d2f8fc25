"""The catalogue implementation of ``bookkeeping.interface.Bookkeeping``.

Every answer comes from ``selectattr``/``getattr`` calls of a catalogue session (the engine
checks permissions and owns the tables). Where the query language has no word for what the
interface means (outer joins, missing values sorted last, SQL's three-valued logic over
missing values) the rows are read with the query language and finished in Python
(``evaluation``); dataset selections are served by the views when they are enabled.

``CatalogueReader`` holds all of it and needs only a source of sessions
(``sessions.LayoutSession``): ``CatalogueBookkeeping`` opens in-process catalogue sessions,
``remote.RemoteCatalogueBookkeeping`` sessions over the AMGA protocol.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, cast

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import (
    IN_CHUNK,
    chunked_rows,
    rows,
    site_union,
)
from bookkeeping.amga_adapter.bookkeeping.evaluation import ordered
from bookkeeping.amga_adapter.bookkeeping.listing import CatalogueListing
from bookkeeping.amga_adapter.bookkeeping.records import (
    RECORD_ITEMS,
    Row,
    path_condition,
    rows_by,
    select_rows,
)
from bookkeeping.amga_adapter.bookkeeping.sessions import LayoutSession, ReadSession
from bookkeeping.amga_adapter.catalogue import Catalogue
from bookkeeping.amga_adapter.errors import NoSuchAttribute, NoSuchEntry, PermissionDenied
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
)
from bookkeeping.views.maintain import ensure_view_layout
from bookkeeping.views.selection import view_files, view_iter_files, view_level_values
from bookkeeping.writer.model import (
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
)

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.session import CatalogueSession

DEFAULT_USER = "root"
_LEVEL_KEYS = {
    Level.CONFIG_NAME: "config",
    Level.CONFIG_VERSION: "configversion",
    Level.CONDITIONS: "conditions",
    Level.PROCESSING_PASS: "processingpass",
    Level.EVENT_TYPE: "eventtype",
    Level.FILE_TYPE: "filetype",
    Level.PRODUCTION: "production",
}


class CatalogueReader:
    """Reads the catalogue layout of ``layout``; each call uses a session of its own, from
    ``_open_session`` (what subclasses provide)."""

    def __init__(self, *, views: bool = True) -> None:
        """``views``: answer dataset selections from the roottree and its shards (kept by
        ``CatalogueWriter``); without them, from the bookkeeping directories."""
        self.views = views
        self._layout_ready = False

    def _open_session(self) -> LayoutSession:
        raise NotImplementedError

    @contextmanager
    def _session(self, *, bounded: bool = False) -> Iterator[ReadSession]:
        """``bounded``: the call reads a bounded number of rows (a file, a job, their
        relatives), which ``_bounded_reads`` may make cheaper."""
        session = self._open_session()
        try:
            if not self._layout_ready:
                self._ensure_layout(session)
                self._layout_ready = True
            with self._bounded_reads(session) if bounded else nullcontext():
                yield session
        finally:
            session.close()

    def _bounded_reads(self, session: LayoutSession) -> AbstractContextManager[None]:
        """How a session's reads of a bounded call are grouped (nothing to group here)."""
        return nullcontext()

    def _ensure_layout(self, session: LayoutSession) -> None:
        """An empty bookkeeping answers like an empty one: lay out what is missing. A user
        who may not write at the top reads the layout as it is (what it may not read, its
        queries refuse), so reading needs no write right."""
        try:
            L.ensure_layout(session)
            if self.views:
                # ensure_view_layout only calls layout.ensure_directory, which a
                # LayoutSession serves.
                ensure_view_layout(cast("CatalogueSession", session))
        except PermissionDenied:
            pass

    # --- dataset navigation ---------------------------------------------------------

    def _rows(self, path: DatasetPath) -> list[Row]:
        with self._session() as session:
            return list(select_rows(session, path_condition(path)))

    def level_values(self, level: Level, path: DatasetPath | None = None) -> list[LevelValue]:
        if self.views:
            with self._session() as session:
                return view_level_values(session, level, path or DatasetPath())
        key = _LEVEL_KEYS[level]
        totals: dict[str | int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in self._rows(path or DatasetPath()):
            value = row.attribute(key) if key != "filetype" else row.record.file_type
            total = totals[value]
            total[0] += 1
            total[1] += row.record.events
            total[2] += row.record.size
        descriptions = self._event_descriptions() if level is Level.EVENT_TYPE else {}
        return [
            LevelValue(value, files, events, size, descriptions.get(value))  # type: ignore[arg-type]
            for value, (files, events, size) in sorted(totals.items())
        ]

    def _event_descriptions(self) -> dict[int, str]:
        with self._session() as session:
            found = rows(session, [f"{L.EVENT_TYPES}:TYPE_ID", f"{L.EVENT_TYPES}:DESCRIPTION"])
        return {int(type_id): text for type_id, text in found}

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
            raise ValueError("offset and limit must not be negative")
        if self.views:
            with self._session() as session:
                return view_files(session, path, offset, limit, order_by, descending)
        records = ordered((row.record for row in self._rows(path)), order_by, descending)
        end = None if limit is None else offset + limit
        return FilesPage(
            files=tuple(records[offset:end]),
            total_files=len(records),
            total_events=sum(record.events for record in records),
            total_bytes=sum(record.size for record in records),
            offset=offset,
            limit=limit,
        )

    def iter_files(
        self, path: DatasetPath, *, order_by: FileOrder = "lfn", descending: bool = False
    ) -> Iterator[FileRecord]:
        if self.views:
            with self._session() as session:
                yield from view_iter_files(session, path, order_by, descending)
            return
        yield from ordered((row.record for row in self._rows(path)), order_by, descending)

    # --- single files ---------------------------------------------------------------

    def file_by_id(self, file_id: int) -> FileRecord | None:
        with self._session(bounded=True) as session:
            found = rows_by(session, "fileid", [file_id])
        return found[0].record if found else None

    def file_by_lfn(self, lfn: str) -> FileRecord | None:
        with self._session(bounded=True) as session:
            found = rows_by(session, "lfn", [lfn])
        return found[0].record if found else None

    def files_metadata(self, lfns: Sequence[str]) -> LfnMetadata:
        wanted = sorted(set(lfns))
        with self._session(bounded=True) as session:
            found = sorted((row.record for row in rows_by(session, "lfn", wanted)), key=_by_lfn)
        known = {record.lfn for record in found}
        return LfnMetadata(tuple(found), tuple(lfn for lfn in wanted if lfn not in known))

    def file_parameter(self, file_id: int, name: str) -> str | None:
        attribute = L.attribute_name(L.FILE_PARAMS, name)
        with self._session(bounded=True) as session:
            try:
                found = list(session.getattr(f"{L.FILE_PARAMS}/{file_id}", [attribute]))
            except (NoSuchEntry, NoSuchAttribute):
                return None
        value = found[0][1][0] if found else None
        return None if value is None else str(value)

    def file_parameters(self, file_id: int) -> tuple[Parameter, ...]:
        return self._parameters(L.FILE_PARAMS, file_id)

    def _parameters(self, directory: str, owner_id: int) -> tuple[Parameter, ...]:
        key = L.PARAMETER_KEYS[directory]
        with self._session(bounded=True) as session:
            attributes = [name for name, _ in session.listattr(directory) if name != key]
            try:
                found = list(session.getattr(f"{directory}/{owner_id}", attributes))
            except NoSuchEntry:
                return ()
        if not found:
            return ()
        values = found[0][1]
        return tuple(
            sorted(
                Parameter(L.parameter_name(attribute), str(value))
                for attribute, value in zip(attributes, values, strict=True)
                if value is not None
            )
        )

    def parameter_where(self, name: str, where_name: str, where_value: str) -> tuple[str, ...]:
        # The seed's point: one directory, two columns, no self-join.
        directory = L.FILE_PARAMS
        wanted = L.attribute_name(directory, name)
        known = L.attribute_name(directory, where_name)
        with self._session() as session:
            types = dict(session.listattr(directory))
            if wanted not in types or known not in types or known == L.PARAMETER_KEYS[directory]:
                return ()
            value: int | str = where_value
            if L.parameter_type(directory, where_name):
                if not _canonical_int(where_value):
                    return ()  # stored text is always str(int): nothing else can match
                value = int(where_value)
            # "is not null": only files holding the parameter, so a result never mixes
            # NULL with empty values (which the AMGA wire cannot tell apart).
            found = rows(
                session,
                [f"{directory}:{wanted}"],
                f"{directory}:{known} = {L.literal(value)} and {directory}:{wanted} is not null",
            )
        return tuple(sorted(str(v) for (v,) in found if v is not None))

    # --- jobs -----------------------------------------------------------------------

    def job(self, job_id: int) -> JobRecord | None:
        names = [
            JOB_PARAMETER_DIRAC_JOB_ID,
            JOB_PARAMETER_PRODUCTION,
            JOB_PARAMETER_RUN,
            JOB_PARAMETER_CONDITIONS,
            JOB_PARAMETER_PROCESSING_PASS,
        ]
        with self._session(bounded=True) as session:
            try:
                job = list(
                    session.getattr(
                        f"{L.JOBS}/{job_id}", ["JOB_ID", "CONFIGNAME", "CONFIGVERSION", "JOBDATE"]
                    )
                )
                params = list(
                    session.getattr(
                        f"{L.JOB_PARAMS}/{job_id}",
                        [L.attribute_name(L.JOB_PARAMS, n) for n in names],
                    )
                )
            except NoSuchEntry:
                return None
        if not job or not params:
            return None
        job_key, config_name, config_version, job_date = job[0][1]
        dirac, production, run, conditions, processing_pass = params[0][1]
        return JobRecord(
            job_id=int(job_key),
            config_name=config_name,
            config_version=config_version,
            job_date=job_date,
            production=int(production),
            run=None if run is None else int(run),
            conditions=conditions,
            processing_pass=processing_pass,
            dirac_job_id=int(dirac),
        )

    def job_parameters(self, job_id: int) -> tuple[Parameter, ...]:
        return self._parameters(L.JOB_PARAMS, job_id)

    # --- provenance, replicas, quality ----------------------------------------------

    def ancestors(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        items = [f"{L.INPUT_FILES}:FILE_ID"]
        join = f"{L.INPUT_FILES}:JOB_ID = {L.FILES}:JOB_ID"
        return self._relatives(file_id, depth, items, f"{L.FILES}:FILE_ID", join)

    def descendants(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        items = [f"{L.FILES}:FILE_ID"]
        join = f"{L.INPUT_FILES}:JOB_ID = {L.FILES}:JOB_ID"
        return self._relatives(file_id, depth, items, f"{L.INPUT_FILES}:FILE_ID", join)

    def _relatives(
        self, file_id: int, depth: int, items: list[str], frontier_ref: str, join: str
    ) -> tuple[Relative, ...]:
        """Breadth-first, one query per generation; each file at its smallest depth."""
        found: dict[int, int] = {}
        frontier = [file_id]
        with self._session(bounded=True) as session:
            for generation in range(1, depth + 1):
                if not frontier:
                    break
                reached = {
                    int(v) for (v,) in chunked_rows(session, items, frontier_ref, frontier, join)
                }
                frontier = sorted(reached - found.keys() - {file_id})
                found.update((item, generation) for item in frontier)
            names = chunked_rows(
                session,
                [f"{L.FILES}:FILE_ID", f"{L.FILES}:LOGNAME", f"{L.TYPE_PARAMS}:Name"],
                f"{L.FILES}:FILE_ID",
                sorted(found),
                f"{L.FILES}:TYPE_ID = {L.TYPE_PARAMS}:TYPE_ID",
            )
            relatives = [
                Relative(found[int(fid)], int(fid), lfn, ftype) for fid, lfn, ftype in names
            ]
        return tuple(sorted(relatives, key=lambda r: (r.depth, r.lfn)))

    def _sites(self, session: ReadSession) -> list[str]:
        """The sites with a directory of copies (one that a writer is creating right now
        may still lack its attributes: ``catalogue_io.site_union`` reads it as empty)."""
        listed = session.dir(L.REPLICAS)  # (absolute path, kind), sub-directories first
        return sorted(path.rsplit("/", 1)[-1] for path, kind in listed if kind == "collection")

    def replicas(self, file_id: int) -> tuple[Replica, ...]:
        return self.replicas_of([file_id])[file_id]

    def replicas_of(self, file_ids: Sequence[int]) -> dict[int, tuple[Replica, ...]]:
        wanted = sorted(set(file_ids))
        found: dict[int, list[Replica]] = {file_id: [] for file_id in wanted}
        items = ["FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA"]
        with self._session(bounded=True) as session:
            sites = [L.replica_directory(site) for site in self._sites(session)]
            for start in range(0, len(wanted), IN_CHUNK):
                # The writer always sets AREA and REPLICA (empty when there is none);
                # saying so spares a session over the AMGA wire, where NULL and "" look
                # alike, the question which of the two an empty value is.
                condition = (
                    f"FILE_ID in {L.literal_list(wanted[start : start + IN_CHUNK])}"
                    " and AREA is not null and REPLICA is not null"
                )
                for directory, file_id, storage_class, area, status, pfn in site_union(
                    session, sites, items, condition
                ):
                    site = str(directory).rsplit("/", 1)[-1]
                    copy = Replica(site, storage_class, area, status, pfn)  # type: ignore[arg-type]
                    found[int(file_id)].append(copy)  # type: ignore[call-overload]
        return {file_id: tuple(sorted(copies)) for file_id, copies in found.items()}

    def quality_flags(self, file_id: int) -> tuple[QualityFlag, ...]:
        q = L.QUALITY_PARAMS
        with self._session(bounded=True) as session:
            found = rows(
                session, [f"{q}:Group", f"{q}:Flag"], f"{q}:FILE_ID = {L.literal(file_id)}"
            )
        return tuple(sorted(QualityFlag(group, flag) for group, flag in found))

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
        parts = []
        if lfn is not None:
            pattern = "%" + lfn.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            parts.append(f"{RECORD_ITEMS['lfn']} like {L.literal(pattern)}")
        for key, value in (("guid", guid), ("production", production), ("run", run)):
            if value is not None:
                parts.append(f"{RECORD_ITEMS[key]} = {L.literal(value)}")
        if not parts:
            return ()
        with self._session() as session:
            found = [row.record for row in select_rows(session, " and ".join(parts))]
        return tuple(sorted(found, key=_by_lfn)[:limit])

    def count_listing(self, query: ListingQuery) -> int:
        with self._session() as session:
            return CatalogueListing(session, self._sites(session), query).count()

    def iter_listing(self, query: ListingQuery) -> Iterator[ListedFile]:
        with self._session() as session:
            yield from CatalogueListing(session, self._sites(session), query).lines()


class CatalogueBookkeeping(CatalogueReader):
    """The catalogue bookkeeping in this process: sessions of ``Catalogue(engine)``."""

    def __init__(self, engine: Engine, *, user: str = DEFAULT_USER, views: bool = True) -> None:
        super().__init__(views=views)
        self.engine = engine
        self.catalogue = Catalogue(engine)
        self.user = user

    def _open_session(self) -> LayoutSession:
        return self.catalogue.session(self.user)

    def _bounded_reads(self, session: LayoutSession) -> AbstractContextManager[None]:
        # One connection and no server-side cursors for the call's few queries.
        return cast("CatalogueSession", session).reading()


def _by_lfn(record: FileRecord) -> tuple[str, int]:
    return record.lfn, record.file_id


def _canonical_int(text: str) -> bool:
    try:
        return str(int(text)) == text
    except ValueError:
        return False
