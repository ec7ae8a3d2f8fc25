"""The core of a session: what every one of its services shares.

``SessionCore`` holds the session's state (user and principal, current directory, open
transaction or ``reading()`` block) and the mechanisms every operation runs through:
connections and transactions (``connection``, ``run``, ``stream``, ``schema_connection``),
the schema cache (``directory``, ``named_attributes``, validated as below; ``schema_changed``)
and path resolution (``absolute``). The services (``directories.py``, ``entries.py``, ...)
receive it, and each other, explicitly; ``session.py`` puts them together.

Outside an explicit transaction each operation runs in a transaction of its own (writes
start with ``BEGIN IMMEDIATE`` on SQLite). Inside ``begin()``...``commit()`` every operation
runs in a savepoint of the session's transaction, so a failed operation changes nothing and
leaves the transaction usable. ``begin(savepoints=False)`` leaves the savepoints out (two
statements per operation) for a caller that aborts the whole transaction on any error, as
the production writer does: a failed operation may then leave the transaction half-done
(SQLite, MariaDB) or refusing further statements (PostgreSQL), and only ``abort()`` is safe.

Inside ``reading()`` (no transaction open) every read runs on one connection, in one
database transaction, and rows are read at once instead of through a server-side cursor:
a point look-up of several queries then costs a round trip per query, not seven (pool
check, BEGIN, DECLARE, two FETCHes, CLOSE, ROLLBACK). It is for reads of bounded size.

The schema cache (the catalogue's) is validated once per operation, ``reading()`` block,
transaction or ``single_call()`` block (``schema``: ``schema_check.SchemaCheck``); each
schema change bumps the version it reads (``schema_changed``).

Schema changes (new directories, attributes) are DDL. Outside a transaction they run before
and apart from the data they serve. Inside one they join it on PostgreSQL and SQLite, whose
DDL is transactional; on MariaDB DDL would commit the transaction half-way, so it is refused.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from bookkeeping import db_errors
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.directory_info import Attribute, DirectoryInfo, load_directory
from bookkeeping.amga_adapter.engine.errors import (
    NoSuchAttribute,
    NoSuchDirectory,
    SchemaChangeInTransaction,
    TransactionError,
)
from bookkeeping.amga_adapter.engine.permissions import Principal
from bookkeeping.amga_adapter.engine.prepared import PreparedReads
from bookkeeping.amga_adapter.engine.schema_check import SchemaCheck
from bookkeeping.amga_adapter.engine.streams import STREAM_BATCH, ResultStream
from bookkeeping.amga_adapter.engine.subtree_roles import guarded, roles_for
from bookkeeping.engines import (
    may_retry_read,
    note_commit,
    read_connection,
    read_routing,
    write_position,
    write_transaction,
)

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

T = TypeVar("T")
_SQLITE_BEGIN_OPTION = "bk_sqlite_begin"  # engines.py's option: BEGIN IMMEDIATE on SQLite


def _stale_schema(exc: sa.exc.DBAPIError) -> bool:
    """A table or column the cached schema names is missing: another process changed the
    schema, so reloading it and trying once more may pass. Nothing else is retried here
    (but a read that failed on a read replica, which is asked again elsewhere)."""
    return db_errors.classify(exc) is db_errors.Failure.MISSING_OBJECT


class SessionCore:
    """A session's state and the mechanisms its services share (see the module docstring)."""

    def __init__(self, catalogue: Catalogue, principal: Principal) -> None:
        self.catalogue = catalogue
        self._principal = guarded(principal, catalogue.engine)
        self.user = principal.user
        self.cwd = "/"
        self._connection_in_txn: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._savepoints = True  # operations of the open transaction run in savepoints
        self._schema_touched: set[str] = set()
        self._reading: sa.Connection | None = None
        self.schema = SchemaCheck(catalogue, self._reload_principal)  # schema_check.py
        self.prepared = PreparedReads(self)
        # Read replicas (docs/replication.md): reads go to a replica that has replayed
        # this position, which each commit of this session moves on (read-your-writes).
        self._replayed_needed = write_position(catalogue.engine)

    @property
    def principal(self) -> Principal:
        """Who the session acts for; refused writes under a slave subtree however it is set
        (at the start, or reloaded after a group change; ``subtree_roles.py``)."""
        return self._principal

    @principal.setter
    def principal(self, value: Principal) -> None:
        self._principal = guarded(value, self.catalogue.engine)

    # -- transactions ----------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._transaction is not None

    @property
    def connection_in_transaction(self) -> sa.Connection | None:
        """The connection of the open transaction (``None`` outside one): what must commit
        with the transaction's changes, e.g. an announcement (bookkeeping/announce.py), runs on it.
        """
        return self._connection_in_txn

    @property
    def unguarded_transaction(self) -> bool:
        """Inside a transaction begun with ``savepoints=False``."""
        return self._transaction is not None and not self._savepoints

    def begin(self, *, savepoints: bool = True) -> None:
        if self._transaction is not None:
            raise TransactionError("a transaction is already open; commit or abort it first")
        try:
            connection = self.catalogue.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise db_errors.translate(exc, "begin") from None
        if connection.dialect.name == "sqlite":
            connection = connection.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            self._transaction = connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection_in_txn = connection
        self._savepoints = savepoints
        self._new_operation()

    def commit(self) -> None:
        transaction, connection = self._take_transaction("commit")
        try:
            transaction.commit()
        except sa.exc.DBAPIError as exc:
            self._forget_schema_changes()
            error = db_errors.translate(exc, "commit")
            if error.transient:
                raise error from None
            raise TransactionError(f"the transaction could not be committed: {error}") from None
        else:
            self._note_commit(connection)
        finally:
            connection.close()
        self._schema_touched.clear()

    def abort(self) -> None:
        transaction, connection = self._take_transaction("abort")
        try:
            transaction.rollback()
        finally:
            connection.close()
            self._forget_schema_changes()

    def close(self) -> None:
        if self._transaction is not None:
            self.abort()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads of the block share one connection and read their rows at once (see the
        module docstring); writes still run apart. Inside a transaction, or nested, it
        changes nothing."""
        if self._reading is not None or self._connection_in_txn is not None:
            yield
            return
        with self._read_connection() as connection:
            self._reading = connection
            self._new_operation()
            try:
                yield
            finally:
                self._reading = None

    def _take_transaction(self, verb: str) -> tuple[sa.RootTransaction, sa.Connection]:
        if self._transaction is None or self._connection_in_txn is None:
            raise TransactionError(f"no transaction to {verb}")
        pair = self._transaction, self._connection_in_txn
        self._transaction = self._connection_in_txn = None
        return pair

    def _forget_schema_changes(self) -> None:
        for path in self._schema_touched:
            self.catalogue.cache.invalidate(path)
        self._schema_touched.clear()

    # -- connections -----------------------------------------------------------------

    @contextmanager
    def connection(self, *, write: bool) -> Iterator[sa.Connection]:
        """The connection an operation runs on, in a (sub-)transaction of its own."""
        with self._open(write=write) as connection:
            if write:
                # Replicated subtrees matter to writes only: their roles are reloaded (when
                # stale) on the write's own connection, before the operation checks its
                # rights; reads never pay for them.
                roles = roles_for(self.catalogue.engine)
                if roles.stale:
                    roles.refresh(connection)
            yield connection

    @contextmanager
    def _open(self, *, write: bool) -> Iterator[sa.Connection]:
        if self._connection_in_txn is not None:
            if not self._savepoints:
                yield self._connection_in_txn
                return
            with self._connection_in_txn.begin_nested():
                yield self._connection_in_txn
        elif self._reading is not None and not write:
            try:
                yield self._reading
            except sa.exc.DBAPIError:
                # PostgreSQL refuses every later statement of a failed transaction; the
                # next read (a retry after reloading the schema) begins a new one.
                self._reading.rollback()
                raise
        elif write:
            self._new_operation()
            with write_transaction(self.catalogue.engine) as connection:
                yield connection
            self._replayed_needed = write_position(self.catalogue.engine)
        else:
            self._new_operation()
            with self._read_connection() as connection:
                yield connection

    # -- read replicas (kept apart: nothing here when the engine has none) -----------

    def _read_connection(self) -> sa.Connection:
        return read_connection(self.catalogue.engine, self._replayed_needed)

    def _note_commit(self, connection: sa.Connection) -> None:
        note_commit(self.catalogue.engine, connection)
        self._replayed_needed = write_position(self.catalogue.engine)

    def _first_batch_read(
        self, result: sa.CursorResult[Any], connection: sa.Connection
    ) -> Iterable[Any] | None:
        """With replicas, a stream's first batch is fetched here, where a replica lost
        before any row was handed out can still be retried (a loss later cannot). A
        result of one batch is then whole: the rows, and the connection is given back.
        None: stream from ``result`` as usual."""
        if read_routing(self.catalogue.engine) is None:
            return None
        try:
            head = result.fetchmany(STREAM_BATCH)
        except sa.exc.DBAPIError:
            with contextlib.suppress(sa.exc.DBAPIError):
                result.close()  # the connection is gone: this only marks the cursor closed
            raise
        if len(head) == STREAM_BATCH:
            return itertools.chain(head, result)
        # Every row is here: a server lost from now on must not fail the call.
        with contextlib.suppress(sa.exc.DBAPIError):
            result.close()
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.close()
        return head

    def _read_retry(self, exc: BaseException, *, write: bool) -> bool:
        """A read that failed on a replica now set aside is asked again (elsewhere)."""
        return not write and not self.in_transaction and may_retry_read(self.catalogue.engine, exc)

    @contextmanager
    def schema_connection(self, path: str) -> Iterator[sa.Connection]:
        """A connection for DDL on the directory ``path`` (see the module docstring)."""
        if self._connection_in_txn is not None:
            if self.catalogue.backend == "mariadb":
                raise SchemaChangeInTransaction(
                    f"cannot change the schema of {path} inside a transaction on MariaDB "
                    "(its DDL commits implicitly): do it before begin()"
                )
            self._schema_touched.add(path)
        with self.connection(write=True) as connection:
            yield connection

    def explaining_read(self, operation: Callable[[sa.Connection], T]) -> T:
        """A read that explains why a statement of the open transaction failed. In an
        unguarded transaction on PostgreSQL the failure aborted it, so the read runs on a
        connection of its own (it sees what other transactions committed: what the failed
        statement collided with); otherwise as any read."""
        if self.unguarded_transaction and self.catalogue.backend == "postgresql":
            try:
                with self.catalogue.engine.connect() as connection:
                    return operation(connection)
            except sa.exc.DBAPIError as exc:
                raise db_errors.translate(exc) from None
        return self.run(operation, write=False)

    def run(self, operation: Callable[[sa.Connection], T], *, write: bool, retry: bool = True) -> T:
        """Run ``operation``; when the database says a table or column is missing, the
        cached schema was stale (another process changed it): reload and retry once
        (unless ``retry`` is false: the operation consumes a one-shot iterator)."""
        for attempt in (1, 2) if retry else (2,):
            try:
                with self.connection(write=write) as connection:
                    return operation(connection)
            except sa.exc.IntegrityError:
                raise  # the operations name the entry or constraint (by catching it)
            except sa.exc.DBAPIError as exc:
                self.catalogue.cache.invalidate()
                if attempt == 1 and self._read_retry(exc, write=write):
                    continue  # the replica it ran on is set aside: ask another
                if attempt == 2 or self.in_transaction or not _stale_schema(exc):
                    raise db_errors.translate(exc) from None
        raise AssertionError("unreachable")

    def stream(
        self, build: Callable[[sa.Connection], sa.Executable], convert: Callable[[Any], T]
    ) -> ResultStream[T]:
        """Execute a query now (errors surface at the call) and stream its rows."""
        if self._connection_in_txn is not None or self._reading is not None:
            # Inside a transaction the rows are read at once: later operations of the same
            # transaction need its connection, which an open server-side cursor would block
            # (and inside reading() the result is small by contract).
            rows = self.run(lambda c: c.execute(build(c)).all(), write=False)
            return ResultStream(rows, convert)

        for attempt in (1, 2):
            try:
                connection = self._read_connection().execution_options(
                    stream_results=True, yield_per=STREAM_BATCH
                )
            except sa.exc.DBAPIError as exc:
                raise db_errors.translate(exc, "the query") from None
            self._new_operation()
            try:
                result = connection.execute(build(connection))
                batch = self._first_batch_read(result, connection)
            except sa.exc.DBAPIError as exc:
                connection.close()
                self.catalogue.cache.invalidate()
                if attempt == 1 and self._read_retry(exc, write=False):
                    continue
                if attempt == 2 or not _stale_schema(exc):
                    raise db_errors.translate(exc, "the query") from None
                continue
            except BaseException:
                connection.close()
                raise
            if batch is None:
                return ResultStream(result, convert, result=result, connection=connection)
            return ResultStream(batch, convert)
        raise AssertionError("unreachable")

    # -- paths and directories -------------------------------------------------------

    def absolute(self, path: str) -> str:
        return paths.normalise(path, self.cwd)

    def directory(
        self, connection: sa.Connection, path: str, *, fresh: bool = False
    ) -> DirectoryInfo:
        """The directory at ``path`` (absolute), from the schema cache validated for this
        operation, or read afresh (``fresh``)."""
        if len(path) > paths.MAX_PATH:
            raise NoSuchDirectory(f"no such directory: {path[:60]}... (path too long)")
        if self.in_transaction and path in self._schema_touched:
            # This transaction changed it: read it here and keep the uncommitted schema out
            # of the cache every session shares.
            return load_directory(connection, path)
        self.schema.validate(connection)
        return self.catalogue.cache.get(connection, path, fresh=fresh)

    def named_attributes(
        self, connection: sa.Connection, info: DirectoryInfo, names: list[str] | tuple[str, ...]
    ) -> tuple[DirectoryInfo, list[Attribute]]:
        """The named attributes, reloading the directory once if the cache lacks one."""
        if any(name not in info.attributes for name in names):
            info = self.directory(connection, info.path, fresh=True)
        missing = [name for name in names if name not in info.attributes]
        if missing:
            raise NoSuchAttribute(
                f"directory {info.path} has no attribute {missing[0]!r}", attribute=missing[0]
            )
        return info, [info.attributes[name] for name in names]

    def single_call(self) -> contextlib.AbstractContextManager[None]:
        """The operations of the block answer one call of a caller: the schema cache is
        validated once for all of them (``SchemaCheck.single_call``)."""
        return self.schema.single_call()

    def _new_operation(self) -> None:
        self.schema.new_operation()

    def _reload_principal(self) -> None:
        """The caches were emptied: the principal's groups may have changed."""
        self.principal = self.catalogue.principal(self.user)

    def schema_changed(self, path: str) -> None:
        """This session changed the schema of ``path`` (and below): forget it here and
        announce it to every process (inside a transaction, with the transaction)."""
        self.catalogue.cache.invalidate(path)
        if self._connection_in_txn is not None:
            self.catalogue.schema_changed(self._connection_in_txn, own_transaction=False)
            return
        with write_transaction(self.catalogue.engine) as connection:
            self.catalogue.schema_changed(connection, own_transaction=True)
