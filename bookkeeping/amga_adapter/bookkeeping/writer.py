"""Recording job reports in the catalogue (the catalogue's ``BookkeepingWriter``).

The same rules as the warehouse writer (``bookkeeping.warehouse.store``), so that both
implementations fed the same reports hold the same bookkeeping, ids included:

1. schema changes first, outside any transaction (DDL commits implicitly on MariaDB): the
   attribute of every parameter name in the batch, the directory of every replica site,
   the views' combinations;
2. look up what the catalogue knows and plan the batch (``bookkeeping.writer.planning``);
3. create the new file types and reserve exactly as many job, file and quality ids as the
   plan records, as blocks of the catalogue's sequences (``ids``; short transactions,
   committed at once);
4. one catalogue transaction: one ``addentries`` per directory, then the views.

A failed batch may leave an unused attribute or file type and unused ids, never half a
report. A concurrent writer can still record the same report (the unique DIRAC job id of
``/jobParams`` refuses the second), the same LFN or the same new event type between steps 2
and 4: the batch is then planned again, after a short random pause; a batch that keeps
failing is recorded one report at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bookkeeping.amga_adapter.bookkeeping import changes, ids, lifecycle, marks
from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.amga_adapter.bookkeeping.batch import (
    Batch,
    WrittenFile,
    build,
    file_parameters,
    job_parameters,
    lookups,
)
from bookkeeping.amga_adapter.bookkeeping.views.changes import FileState
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import (
    CatalogueError,
    ConstraintViolation,
    EntryExists,
    TransactionError,
)
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable
from bookkeeping.retry import retrying
from bookkeeping.writer import batching
from bookkeeping.writer.changes import (
    AddCopy,
    ChangeCopy,
    MarkedCopies,
    RemoveCopy,
    ReplicaKey,
    ThenHook,
)
from bookkeeping.writer.errors import ReportConflict
from bookkeeping.writer.lifecycle import LifeCycleChange, LifeCycleState
from bookkeeping.writer.model import JobReport, RecordResult, ReplicaSpec
from bookkeeping.writer.planning import Ids, TypeMemory, failed, named, plan

__all__ = ["Batch", "CatalogueWriter", "ViewHooks", "WrittenFile"]

RETRIES = 6  # per-report attempts once the batch gave up
BATCH_ATTEMPTS = 6  # whole-batch attempts before falling back to one report at a time
SCHEMA_ATTEMPTS = 6  # attempts of the schema changes a batch needs
DEFAULT_USER = "root"
# How long the writer trusts its cached directories. A batch touches a few dozen of them, and
# reloading each costs four statements; what the cache can get wrong is only ownership and
# ACLs (a missing attribute or table reloads at once), which do not change under a writer.
SCHEMA_CACHE_SECONDS = 30.0


def _retryable(exc: BaseException) -> bool:
    """Worth planning again: a concurrent writer's entry, a failed commit, or a transient
    failure (a deadlock, a lock timeout, a lost connection); not a permission or a value
    the catalogue cannot take."""
    if isinstance(exc, EntryExists | ConstraintViolation | TransactionError):
        return True
    return isinstance(exc, BookkeepingError) and exc.transient


class ViewHooks(Protocol):
    """What a writer tells the views (``views.maintain.ViewMaintainer``)."""

    def prepare(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        """Before the transaction: schema changes the batch will need."""

    def write(self, session: CatalogueSession, batch: Batch) -> None:
        """Inside the transaction, after the batch's entries are added."""

    def prepare_changes(self, session: CatalogueSession, states: Mapping[int, FileState]) -> None:
        """Before the transaction of a change of files' visibility or copies."""

    def write_changes(self, session: CatalogueSession, states: Mapping[int, FileState]) -> None:
        """Inside it, after the bookkeeping entries are changed."""

    def committed(self) -> None: ...

    def aborted(self) -> None: ...


class CatalogueWriter:
    """``BookkeepingWriter`` over the catalogue directories of ``layout`` (one per thread:
    it remembers the schema it has ensured and, with views, its own delta rows)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str = DEFAULT_USER,
        views: bool | ViewHooks = True,
    ) -> None:
        """``views``: keep the roottree and its shards up to date (the default), or not,
        or use the given hooks."""
        self.engine = engine
        self.catalogue = Catalogue(engine, cache_ttl=SCHEMA_CACHE_SECONDS)
        self.user = user
        if views is True:
            from bookkeeping.amga_adapter.bookkeeping.views.maintain import (
                ViewMaintainer,  # the views build on us
            )

            views = ViewMaintainer()
        self.views: ViewHooks | None = views or None
        self._layout_ready = False
        self._state_index = False
        # Schema this writer has ensured: asking again would cost round trips per batch.
        self._attributes: dict[str, set[str]] = {L.JOB_PARAMS: set(), L.FILE_PARAMS: set()}
        self._sites: set[str] = set()
        self.types = TypeMemory()
        self._session: CatalogueSession | None = None

    def record(self, report: JobReport) -> RecordResult:
        return self.record_batch([report])[0]

    # --- changes to recorded files (bookkeeping/writer/changes.py, changes.py) ---------

    def set_visibility(self, lfns: Sequence[str], visible: bool) -> int:
        return self._change(lfns, changes.Visibility(visible))

    def set_life_cycle(self, lfns: Sequence[str], state: LifeCycleState) -> int:
        session = self._writer_session()
        try:
            if not self._layout_ready:
                L.ensure_layout(session)
                self._layout_ready = True
            if not self._state_index:
                # the archiver pages through the closed files (files_in_state)
                session.create_index(L.FILES, ["STATE", "FILE_ID"])
                self._state_index = True
            return lifecycle.set_life_cycle(session, lfns, LifeCycleChange(state))
        finally:
            session.close()

    def add_replicas(self, lfns: Sequence[str], replica: ReplicaSpec) -> int:
        return self._change(lfns, AddCopy(replica))

    def add_replicas_at(self, paths: Mapping[str, str], replica: ReplicaSpec) -> int:
        return self._change(list(paths), AddCopy(replica, dict(paths)))

    def remove_replicas(self, lfns: Sequence[str], replica: ReplicaKey) -> int:
        return self._change(lfns, RemoveCopy(replica))

    def change_replicas(
        self,
        lfns: Sequence[str],
        replica: ReplicaKey,
        *,
        status: str | None = None,
        pfn: str | None = None,
        area: str | None = None,
        se: str | None = None,
        path: str | None = None,
    ) -> int:
        return self._change(lfns, ChangeCopy(replica, status, pfn, area, se, path))

    def mark_copies_at(
        self, se: str, copies: Mapping[str, str], status: str, *, then: ThenHook | None = None
    ) -> MarkedCopies:
        session = self._writer_session()
        try:
            if not self._layout_ready:
                L.ensure_layout(session)
                self._layout_ready = True
            if self.views is not None:
                # Outside the transaction: the shards' copy-fold attributes (views.maintain)
                self.views.prepare_changes(session, {})
            return marks.mark_copies_at(
                session, se, copies, status, then, views=self.views is not None
            )
        finally:
            session.close()

    def _change(self, lfns: Sequence[str], change: changes.Change) -> int:
        session = self._writer_session()
        try:
            if not self._layout_ready:
                L.ensure_layout(session)
                self._layout_ready = True
            return changes.apply(session, self.views, lfns, change)
        finally:
            session.close()

    def record_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]:
        session = self._writer_session()
        try:
            # The schema cache is validated once for the batch, not once per operation
            # (about nine per report): what this writer changes it forgets path by path
            # itself, and a stale directory is reloaded when a statement finds it changed.
            with session.single_call():
                return batching.record_batch(
                    reports,
                    prepare=lambda batch: self._prepare(session, batch),
                    write=lambda batch: self._write_batch(session, batch),
                    falls_back_on=(CatalogueError, DatabaseUnavailable),
                    alone=lambda report: self._record_alone(session, report),
                )
        finally:
            session.close()  # aborts a transaction an error left open; the session stays

    # --- internals ------------------------------------------------------------------

    def _writer_session(self) -> CatalogueSession:
        if self._session is None:
            # One session for the writer's life: opening one costs two look-ups of the
            # user and its groups.
            self._session = self.catalogue.session(self.user)
        return self._session

    def _prepare(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        """Schema changes, outside any transaction. Every step is idempotent, so a step that
        lost a race with another writer (two creating the layout of an empty catalogue at
        once: MariaDB may answer one with a deadlock) is simply taken again."""
        retrying(
            lambda: self._prepare_schema(session, reports),
            retry_on=lambda exc: isinstance(exc, CatalogueError | DatabaseUnavailable | DBAPIError),
            attempts=SCHEMA_ATTEMPTS,
            before_retry=self.catalogue.cache.invalidate,
        )

    def _prepare_schema(self, session: CatalogueSession, reports: Sequence[JobReport]) -> None:
        if not self._layout_ready:
            L.ensure_layout(session)
            self._layout_ready = True
        names = {
            L.JOB_PARAMS: {name for r in reports for name, _ in job_parameters(r)},
            L.FILE_PARAMS: {
                name for r in reports for f in r.output_files for name, _ in file_parameters(f)
            },
        }
        for directory, wanted in names.items():
            new = wanted - self._attributes[directory]
            if new:
                session.ensure_attributes(
                    directory,
                    {L.attribute_name(directory, n): L.parameter_type(directory, n) for n in new},
                )
                self._attributes[directory] |= new
        sites = {c.site for r in reports for f in r.output_files for c in f.replicas}
        for site in sorted(sites - self._sites):
            L.ensure_replica_directory(session, site)
            self._sites.add(site)
        if self.views is not None and reports:
            self.views.prepare(session, reports)

    def _write(self, session: CatalogueSession, reports: Sequence[JobReport]) -> list[RecordResult]:
        """Plan ``reports`` on what is recorded now, reserve their ids, write them in one
        transaction. One result per report, in order."""
        if not reports:
            return []
        with session.reading():  # the look-ups on one connection, not one each
            known = lookups(session, reports, self.types)
        batch_plan = plan(reports, known)
        file_types = known.file_types
        if batch_plan.file_types:
            file_types = ids.ensure_file_types(session, batch_plan.file_types, file_types)
        self.types.learn(known.event_types, file_types)
        firsts = ids.reserve(
            session,
            {
                ids.JOB_SEQUENCE: batch_plan.jobs,
                ids.FILE_SEQUENCE: batch_plan.files,
                ids.QUALITY_SEQUENCE: batch_plan.quality,
            },
        )
        blocks = Ids(
            job=firsts.get(ids.JOB_SEQUENCE, 0),
            file=firsts.get(ids.FILE_SEQUENCE, 0),
            quality=firsts.get(ids.QUALITY_SEQUENCE, 0),
        )
        batch = build(batch_plan, batch_plan.assign(blocks, file_types))
        if batch.entries:
            self._write_entries(session, batch)
        self.types.learn((spec.event_type for spec in batch_plan.event_types), {})
        return batch_plan.results(blocks)

    def _write_entries(self, session: CatalogueSession, batch: Batch) -> None:
        # Any error aborts the whole transaction (and the batch is planned again), so its
        # operations need no savepoints: two statements less per directory written.
        session.begin(savepoints=False)
        try:
            for directory, entries in batch.entries.items():
                session.addentries(directory, entries)
            if self.views is not None and batch.files:
                self.views.write(session, batch)
        except BaseException:
            session.abort()
            if self.views is not None:
                self.views.aborted()
            raise
        try:
            session.commit()
        except BaseException:
            if self.views is not None:
                self.views.aborted()
            raise
        if self.views is not None:
            self.views.committed()

    def _write_batch(
        self, session: CatalogueSession, reports: Sequence[JobReport]
    ) -> list[RecordResult]:
        return retrying(
            lambda: self._write(session, reports), retry_on=_retryable, attempts=BATCH_ATTEMPTS
        )

    def _record_alone(self, session: CatalogueSession, report: JobReport) -> RecordResult:
        try:
            return retrying(
                lambda: self._write(session, [report])[0], retry_on=_retryable, attempts=RETRIES
            )
        except (CatalogueError, DatabaseUnavailable) as exc:
            if exc.transient:
                raise  # an outage is not the report's fault: the caller retries it
            return failed(report, ReportConflict(named(report, f"cannot be recorded: {exc}")))
