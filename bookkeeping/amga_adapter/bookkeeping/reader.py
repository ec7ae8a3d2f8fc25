"""The catalogue implementation of ``bookkeeping.interface.Bookkeeping``.

Every answer comes from ``selectattr``/``getattr`` calls of a catalogue session (the engine
checks permissions and owns the tables). Where the query language has no word for what the
interface means (outer joins, missing values sorted last, SQL's three-valued logic over
missing values) the rows are read with the query language and finished in Python
(``evaluation``); dataset selections are served by the views when they are enabled.

``CatalogueReader`` holds all of it and needs only a source of sessions
(``sessions.SessionSource``): ``local.CatalogueBookkeeping`` gives it in-process catalogue
sessions (and answers its bounded calls with prepared statements instead of text),
``remote.RemoteCatalogueBookkeeping`` sessions over the AMGA protocol.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace

from bookkeeping.amga_adapter.bookkeeping import copy_filters as CF
from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import (
    IN_CHUNK,
    chunked_rows,
    rows,
    site_union,
)
from bookkeeping.amga_adapter.bookkeeping.evaluation import by_lfn, canonical_int, ordered, page
from bookkeeping.amga_adapter.bookkeeping.lifecycle import state_condition
from bookkeeping.amga_adapter.bookkeeping.listing import CatalogueListing
from bookkeeping.amga_adapter.bookkeeping.read_layout import EMPTY, layout_present
from bookkeeping.amga_adapter.bookkeeping.records import (
    RECORD_ITEMS,
    Row,
    path_condition,
    rows_by,
    select_rows,
)
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession, SessionSource
from bookkeeping.amga_adapter.bookkeeping.views.builder import shared_entries
from bookkeeping.amga_adapter.bookkeeping.views.selection import (
    view_files,
    view_iter_files,
    view_level_values,
    view_quality_counts,
)
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute, NoSuchEntry
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
    meets_file_filters,
)
from bookkeeping.writer.lifecycle import LifeCycleState, checked_state, stored_state
from bookkeeping.writer.model import (
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
)

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
    ``sessions``."""

    def __init__(self, sessions: SessionSource, *, views: bool = True) -> None:
        """``views``: answer dataset selections from the roottree and its shards (kept by
        ``CatalogueWriter``); without them, from the bookkeeping directories."""
        self.sessions = sessions
        self.views = views
        self._layout_ready = False

    @contextmanager
    def _session(self, *, bounded: bool = False) -> Iterator[ReadSession]:
        """``bounded``: the call reads a bounded number of rows (a file, a job, their
        relatives), which ``sessions.bounded_reads`` may make cheaper."""
        session = self.sessions.open()
        try:
            if not self._layout_ready:
                # Without layout (no writer recorded yet) an empty catalogue answers, and
                # the next call looks again; nothing is laid out here (read_layout).
                self._layout_ready = layout_present(session, views=self.views)
                if not self._layout_ready:
                    session.close()
                    session = EMPTY.session()
            with (
                self.sessions.one_call(session),
                self.sessions.bounded_reads(session) if bounded else nullcontext(),
            ):
                yield session
        finally:
            session.close()

    # --- dataset navigation ---------------------------------------------------------

    def _rows(self, path: DatasetPath) -> list[Row]:
        with self._session() as session:
            rows = select_rows(session, path_condition(path))
            if not path.has_file_filters:
                return list(rows)
            # Without views the files' rows are read whole anyway; filter them here.
            return [row for row in rows if meets_file_filters(path, row.record)]

    def level_values(self, level: Level, path: DatasetPath | None = None) -> list[LevelValue]:
        if path is not None and path.has_copy_filters:
            texts = self._event_texts() if level is Level.EVENT_TYPE else {}
            counted = CF.level_values(
                level,
                self.iter_files(path),
                self.job,
                {type_id: description for type_id, (description, _) in texts.items()},
            )
            return [replace(v, decay=texts[v.value][1]) if v.value in texts else v for v in counted]
        if self.views:
            with self._session() as session:
                found = view_level_values(session, level, path or DatasetPath())
            if level is not Level.EVENT_TYPE:
                return found
            # The views keep the description, not the decay: read it from the event types.
            texts = self._event_texts()
            return [replace(v, decay=texts.get(int(v.value), ("", None))[1]) for v in found]
        key = _LEVEL_KEYS[level]
        totals: dict[str | int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in self._rows(path or DatasetPath()):
            value = row.attribute(key) if key != "filetype" else row.record.file_type
            total = totals[value]
            total[0] += 1
            total[1] += row.record.events
            total[2] += row.record.size
        texts = self._event_texts() if level is Level.EVENT_TYPE else {}
        return [
            LevelValue(value, files, events, size, *texts.get(value, (None, None)))  # type: ignore[arg-type]
            for value, (files, events, size) in sorted(totals.items())
        ]

    def storage_share(self, path: DatasetPath) -> StorageShare:
        records = self.iter_files(CF.without_copy_filters(path), order_by="file_id")
        return CF.share(path, records, self.replicas_of)

    def shared_reads(self) -> AbstractContextManager[None]:
        return shared_entries() if self.views else nullcontext()

    def quality_counts(self, path: DatasetPath, flags: Sequence[str]) -> dict[str, int]:
        if self.views and not path.has_copy_filters:
            with self._session() as session:
                return view_quality_counts(session, path, flags)
        # Without views (or with copy filters, read beside the files): a count per flag.
        return {flag: self.files(replace(path, quality=flag), limit=0).total_files
                for flag in flags}  # fmt: skip

    def _event_texts(self) -> dict[int, tuple[str, str | None]]:
        """Each event type's (description, decay or None)."""
        items = [f"{L.EVENT_TYPES}:{name}" for name in ("TYPE_ID", "DESCRIPTION", "DECAY")]
        with self._session() as session:
            found = rows(session, items)
        return {int(type_id): (text, decay or None) for type_id, text, decay in found}

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
        if path.has_copy_filters:
            records = list(self.iter_files(path, order_by=order_by, descending=descending))
            return page(records, offset, limit)
        if self.views:
            with self._session() as session:
                return view_files(session, path, offset, limit, order_by, descending)
        records = ordered((row.record for row in self._rows(path)), order_by, descending)
        return page(records, offset, limit)

    def iter_files(
        self, path: DatasetPath, *, order_by: FileOrder = "lfn", descending: bool = False
    ) -> Iterator[FileRecord]:
        if path.has_copy_filters:  # the copies are read beside the files (copy_filters.py)
            base = CF.without_copy_filters(path)
            records = self.iter_files(base, order_by=order_by, descending=descending)
            yield from CF.kept(path, records, self.replicas_of)
            return
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

    def life_cycle(self, lfns: Sequence[str]) -> dict[str, LifeCycleState]:
        wanted = sorted(set(lfns))
        items = [f"{L.FILES}:LOGNAME", f"{L.FILES}:STATE"]
        with self._session(bounded=True) as session:
            found = chunked_rows(session, items, f"{L.FILES}:LOGNAME", wanted)
            return {str(lfn): stored_state(state) for lfn, state in found}

    def files_in_state(
        self, state: LifeCycleState, *, after: int = 0, limit: int = 1000
    ) -> tuple[tuple[int, str], ...]:
        checked_state(state)
        if limit < 0:
            raise ValidationError("limit must not be negative")
        if limit == 0:
            return ()
        condition = (
            f"{state_condition(state)} and {L.FILES}:FILE_ID > {int(after)}"
            f" order by {L.FILES}:FILE_ID limit {int(limit)}"
        )
        with self._session() as session:
            found = rows(session, [f"{L.FILES}:FILE_ID", f"{L.FILES}:LOGNAME"], condition)
        return tuple((int(i), str(lfn)) for i, lfn in found)

    def files_metadata(self, lfns: Sequence[str]) -> LfnMetadata:
        wanted = sorted(set(lfns))
        with self._session(bounded=True) as session:
            found = sorted((row.record for row in rows_by(session, "lfn", wanted)), key=by_lfn)
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
                if not canonical_int(where_value):
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
        items = ["FILE_ID", "STORAGECLASS", "AREA", "STATUS", "REPLICA", "SE", "SEPATH"]
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
                for directory, file_id, storage_class, area, status, pfn, se, path in site_union(
                    session, sites, items, condition
                ):
                    site = str(directory).rsplit("/", 1)[-1]
                    copy = Replica(
                        site,
                        storage_class,
                        area,
                        status,
                        pfn,
                        str(se or ""),  # unset in a site directory laid out before them
                        str(path or ""),
                    )
                    found[int(file_id)].append(copy)
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
        return tuple(sorted(found, key=by_lfn)[:limit])

    def count_listing(self, query: ListingQuery) -> int:
        with self._session() as session:
            return CatalogueListing(session, self._sites(session), query).count()

    def iter_listing(self, query: ListingQuery) -> Iterator[ListedFile]:
        with self._session() as session:
            yield from CatalogueListing(session, self._sites(session), query).lines()
