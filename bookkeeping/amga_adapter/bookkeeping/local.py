"""The catalogue bookkeeping in this process: ``CatalogueReader`` over ``Catalogue(engine)``
sessions, with its bounded calls as prepared reads (``statements``): one statement per
call where the warehouse needs one, built once per call shape and schema, values bound.

Over the AMGA protocol (``remote``) the same calls go through the query language, which is
what the protocol speaks; here nothing needs the text.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping import listing_statements as LS
from bookkeeping.amga_adapter.bookkeeping import statements as S
from bookkeeping.amga_adapter.bookkeeping.evaluation import canonical_int
from bookkeeping.amga_adapter.bookkeeping.reader import CatalogueReader
from bookkeeping.amga_adapter.bookkeeping.sessions import LayoutSession, ReadSession
from bookkeeping.amga_adapter.bookkeeping.views import share as VS
from bookkeeping.amga_adapter.bookkeeping.views.builder import matching_entries
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute
from bookkeeping.amga_adapter.engine.prepared import Builder
from bookkeeping.chunking import chunked
from bookkeeping.interface import (
    DatasetPath,
    FileRecord,
    JobRecord,
    LfnMetadata,
    ListedFile,
    ListingQuery,
    Parameter,
    QualityFlag,
    Relative,
    Replica,
    StorageShare,
)
from bookkeeping.writer.model import (
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PROCESSING_PASS,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
)

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.session import CatalogueSession

DEFAULT_USER = "root"
IN_CHUNK = 500  # values per expanding parameter
_JOB_PARAMETERS = (
    JOB_PARAMETER_DIRAC_JOB_ID,
    JOB_PARAMETER_PRODUCTION,
    JOB_PARAMETER_RUN,
    JOB_PARAMETER_CONDITIONS,
    JOB_PARAMETER_PROCESSING_PASS,
)
_RECORDS_BY_ID = S.records_by("fileid")
_RECORDS_BY_LFN = S.records_by("lfn")
_PARAMETERS = {directory: S.parameters(directory) for directory in L.PARAMETER_KEYS}
_JOB = S.job(_JOB_PARAMETERS)
_ANCESTORS = S.relatives(ancestors=True)
_DESCENDANTS = S.relatives(ancestors=False)


class LocalSessions:
    """``CatalogueSession``s of ``catalogue`` for ``user`` (a ``SessionSource``)."""

    def __init__(self, catalogue: Catalogue, user: str) -> None:
        self.catalogue = catalogue
        self.user = user

    def open(self) -> LayoutSession:
        return self.catalogue.session(self.user)

    def one_call(self, session: LayoutSession) -> AbstractContextManager[None]:
        # The schema version is read once per call, whatever the operations it makes.
        return cast("CatalogueSession", session).single_call()

    def bounded_reads(self, session: LayoutSession) -> AbstractContextManager[None]:
        # One connection and no server-side cursors for the call's few queries.
        return cast("CatalogueSession", session).reading()


class CatalogueBookkeeping(CatalogueReader):
    """The catalogue bookkeeping in this process: sessions of ``Catalogue(engine)``."""

    def __init__(self, engine: Engine, *, user: str = DEFAULT_USER, views: bool = True) -> None:
        self.engine = engine
        self.catalogue = Catalogue(engine)
        self.user = user
        super().__init__(LocalSessions(self.catalogue, user), views=views)

    def _sites(self, session: ReadSession) -> list[str]:
        """The sites with a directory of copies, from the schema cache (one being created
        may still lack attributes: the statements leave it out)."""
        return cast("CatalogueSession", session).prepared.subdirectories(L.REPLICAS)

    def _read(
        self,
        key: Hashable,
        directories: Sequence[str],
        build: Builder[Any],
        params: Mapping[str, Any] | None = None,
    ) -> tuple[Any, list[Any]]:
        """One prepared read in a session of its own."""
        with self._session(bounded=True) as session:
            prepared = cast("CatalogueSession", session).prepared
            return prepared.rows(key, directories, build, params)

    def _records(self, key: str, values: Sequence[int] | Sequence[str]) -> list[FileRecord]:
        build = _RECORDS_BY_ID if key == "fileid" else _RECORDS_BY_LFN
        found: list[FileRecord] = []
        for chunk in chunked(values, IN_CHUNK):
            _, rows = self._read(("records", key), S.RECORD_DIRECTORIES, build, {"values": chunk})
            found.extend(S.record(row) for row in rows)
        return found

    # --- single files ---------------------------------------------------------------

    def file_by_id(self, file_id: int) -> FileRecord | None:
        found = self._records("fileid", [file_id])
        return found[0] if found else None

    def file_by_lfn(self, lfn: str) -> FileRecord | None:
        found = self._records("lfn", [lfn])
        return found[0] if found else None

    def files_metadata(self, lfns: Sequence[str]) -> LfnMetadata:
        wanted = sorted(set(lfns))
        found = sorted(self._records("lfn", wanted), key=lambda r: (r.lfn, r.file_id))
        known = {record.lfn for record in found}
        return LfnMetadata(tuple(found), tuple(lfn for lfn in wanted if lfn not in known))

    def file_parameter(self, file_id: int, name: str) -> str | None:
        attribute = L.attribute_name(L.FILE_PARAMS, name)
        try:
            _, rows = self._read(
                ("parameter", attribute),
                [L.FILE_PARAMS],
                S.parameter(attribute),
                {"name": str(file_id)},
            )
        except NoSuchAttribute:
            return None
        value = rows[0][0] if rows else None
        return None if value is None else str(value)

    def _parameters(self, directory: str, owner_id: int) -> tuple[Parameter, ...]:
        names, rows = self._read(
            ("parameters", directory), [directory], _PARAMETERS[directory], {"name": str(owner_id)}
        )
        if not rows:
            return ()
        return tuple(
            sorted(
                Parameter(L.parameter_name(attribute), str(value))
                for attribute, value in zip(names, rows[0], strict=False)
                if value is not None
            )
        )

    def parameter_where(self, name: str, where_name: str, where_value: str) -> tuple[str, ...]:
        directory = L.FILE_PARAMS
        wanted = L.attribute_name(directory, name)
        known = L.attribute_name(directory, where_name)
        if known == L.PARAMETER_KEYS[directory]:
            return ()
        numeric = L.parameter_type(directory, where_name) is not None
        value: int | str = where_value
        if numeric:
            if not canonical_int(where_value):
                return ()  # stored text is always str(int): nothing else can match
            value = int(where_value)
        try:
            _, rows = self._read(
                ("parameter_where", wanted, known, numeric),
                [directory],
                S.parameter_where(wanted, known, numeric),
                {"value": value},
            )
        except NoSuchAttribute:
            return ()
        return tuple(sorted(str(v) for (v,) in rows if v is not None))

    # --- jobs -----------------------------------------------------------------------

    def job(self, job_id: int) -> JobRecord | None:
        _, rows = self._read("job", [L.JOBS, L.JOB_PARAMS], _JOB, {"name": str(job_id)})
        if not rows:
            return None
        job_key, config_name, config_version, job_date, *params = rows[0]
        dirac, production, run, conditions, processing_pass = params
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

    # --- provenance, replicas, quality ----------------------------------------------

    def ancestors(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        return self._relatives_of(file_id, depth, ancestors=True)

    def descendants(self, file_id: int, depth: int = 1) -> tuple[Relative, ...]:
        return self._relatives_of(file_id, depth, ancestors=False)

    def _relatives_of(self, file_id: int, depth: int, *, ancestors: bool) -> tuple[Relative, ...]:
        """Breadth-first, one statement per generation; each file at its smallest depth."""
        build = _ANCESTORS if ancestors else _DESCENDANTS
        directories = [L.INPUT_FILES, L.FILES]
        found: dict[int, int] = {}
        frontier = [file_id]
        with self._session(bounded=True) as session:
            prepared = cast("CatalogueSession", session).prepared
            for generation in range(1, depth + 1):
                if not frontier:
                    break
                reached: set[int] = set()
                for chunk in chunked(frontier, IN_CHUNK):
                    _, rows = prepared.rows(
                        ("relatives", ancestors), directories, build, {"values": chunk}
                    )
                    reached.update(int(v) for (v,) in rows)
                frontier = sorted(reached - found.keys() - {file_id})
                found.update((item, generation) for item in frontier)
            wanted = sorted(found)
            relatives: list[Relative] = []
            for chunk in chunked(wanted, IN_CHUNK):
                _, rows = prepared.rows(
                    "names_and_types",
                    [L.FILES, L.TYPE_PARAMS],
                    S.names_and_types,
                    {"values": chunk},
                )
                relatives.extend(
                    Relative(found[int(fid)], int(fid), lfn, ftype) for fid, lfn, ftype in rows
                )
        return tuple(sorted(relatives, key=lambda r: (r.depth, r.lfn)))

    def replicas_of(self, file_ids: Sequence[int]) -> dict[int, tuple[Replica, ...]]:
        wanted = sorted(set(file_ids))
        found: dict[int, list[Replica]] = {file_id: [] for file_id in wanted}
        with self._session(bounded=True) as session:
            sites = [L.replica_directory(site) for site in self._sites(session)]
            prepared = cast("CatalogueSession", session).prepared
            for chunk in chunked(wanted if sites else [], IN_CHUNK):
                names, rows = prepared.rows("replicas", sites, S.replicas, {"values": chunk})
                for site, file_id, storage_class, area, status, pfn, se, path in rows:
                    copy = Replica(
                        names[site], storage_class, area, status, pfn, se or "", path or ""
                    )
                    found[int(file_id)].append(copy)
        return {file_id: tuple(sorted(copies)) for file_id, copies in found.items()}

    def storage_share(self, path: DatasetPath) -> StorageShare:
        """With views, after the roottree read naming the shards: one statement over the
        dataset's shards grouping their files by copy fold (``views.share``); one more
        over the shards semi-joined to the site directories for the files not folded yet
        (rows written before the folds), if there are any."""
        if not self.views:
            return super().storage_share(path)
        with self._session() as session:
            base = replace(path, site=None, storage=None)
            shards = sorted({entry.shard for entry in matching_entries(session, base)})
            if not shards:
                return StorageShare(0, 0, 0, 0, 0, 0, 0, 0, 0)
            prepared = cast("CatalogueSession", session).prepared
            values = VS.params(path)
            complete, rows = prepared.rows(
                ("storage_share_folded", tuple(shards), VS.shape(base)),
                shards,
                VS.folded_builder(path, len(shards)),
                {name: value for name, value in values.items() if name != "site"},
            )
            share, unfolded = VS.folded_share(path, rows)
            if complete and not unfolded:
                return share
            sites = [L.replica_directory(site) for site in self._sites(session)]
            _, rows = prepared.rows(
                ("storage_share", tuple(shards), VS.shape(path)),
                [*shards, *sites],
                VS.builder(path, len(shards)),
                values,
            )
        return VS.plus(share, VS.share(rows))

    def quality_flags(self, file_id: int) -> tuple[QualityFlag, ...]:
        _, rows = self._read(
            "quality_flags", [L.QUALITY_PARAMS], S.quality_flags, {"file_id": file_id}
        )
        return tuple(sorted(QualityFlag(group, flag) for group, flag in rows))

    # --- search and listing ---------------------------------------------------------

    def _listing(
        self, session: ReadSession, query: ListingQuery, *, count: bool
    ) -> tuple[Hashable, list[str], Builder[Any], dict[str, Any]]:
        sites = [L.replica_directory(site) for site in self._sites(session)]
        key = ("listing", LS.shape(query.where), query.disk_only, count)
        build = LS.listing(query.where, query.disk_only, count=count)
        params = {"file_type": query.file_type, **LS.values(query.where)}
        return key, [*S.RECORD_DIRECTORIES, *sites], build, params

    def count_listing(self, query: ListingQuery) -> int:
        with self._session(bounded=True) as session:
            key, directories, build, params = self._listing(session, query, count=True)
            prepared = cast("CatalogueSession", session).prepared
            _, rows = prepared.rows(key, directories, build, params)
        return int(rows[0][0])

    def iter_listing(self, query: ListingQuery) -> Iterator[ListedFile]:
        with self._session() as session:
            key, directories, build, params = self._listing(session, query, count=False)
            prepared = cast("CatalogueSession", session).prepared
            yield from LS.lines(prepared.stream(key, directories, build, params))

    def search(
        self,
        *,
        lfn: str | None = None,
        guid: str | None = None,
        production: int | None = None,
        run: int | None = None,
        limit: int = 100,
    ) -> tuple[FileRecord, ...]:
        if lfn is None and guid is None and production is None and run is None:
            return ()
        params: dict[str, Any] = {"limit": max(limit, 0)}
        if lfn is not None:
            escaped = lfn.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["lfn"] = f"%{escaped}%"
        for key, value in (("guid", guid), ("production", production), ("run", run)):
            if value is not None:
                params[key] = value
        shape = (lfn is not None, guid is not None, production is not None, run is not None)
        _, rows = self._read(("search", *shape), S.RECORD_DIRECTORIES, S.search(*shape), params)
        return tuple(S.record(row) for row in rows)
