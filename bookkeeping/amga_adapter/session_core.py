"""What every session operation shares: connections, transactions, retries, streaming.

Outside an explicit transaction each operation runs in a transaction of its own (writes
start with ``BEGIN IMMEDIATE`` on SQLite). Inside ``begin()``...``commit()`` every operation
runs in a savepoint of the session's transaction, so a failed operation changes nothing and
leaves the transaction usable.

Inside ``reading()`` (no transaction open) every read runs on one connection, in one
database transaction, and rows are read at once instead of through a server-side cursor:
a point look-up of several queries then costs a round trip per query, not seven (pool
check, BEGIN, DECLARE, two FETCHes, CLOSE, ROLLBACK). It is for reads of bounded size.

Schema changes (new directories, attributes) are DDL. Outside a transaction they run before
and apart from the data they serve. Inside one they join it on PostgreSQL and SQLite, whose
DDL is transactional; on MariaDB DDL would commit the transaction half-way, so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter.directory_info import Attribute, DirectoryInfo, load_directory
from bookkeeping.amga_adapter.errors import (
    CatalogueError,
    NoSuchDirectory,
    SchemaChangeInTransaction,
    TransactionError,
)
from bookkeeping.amga_adapter.permissions import Principal
from bookkeeping.amga_adapter.streams import STREAM_BATCH, ResultStream
from bookkeeping.engines import write_transaction
from bookkeeping.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.catalogue import Catalogue

T = TypeVar("T")
_SQLITE_BEGIN_OPTION = "bk_sqlite_begin"  # engines.py's option: BEGIN IMMEDIATE on SQLite


def _raise_if_unavailable(exc: sa.exc.DBAPIError) -> None:
    if exc.connection_invalidated:
        raise DatabaseUnavailable(f"lost the database connection: {exc.orig}") from None


class SessionCore:
    def __init__(self, catalogue: Catalogue, principal: Principal) -> None:
        self.catalogue = catalogue
        self.principal = principal
        self.user = principal.user
        self._cwd = "/"
        self._connection_in_txn: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._schema_touched: set[str] = set()
        self._reading: sa.Connection | None = None

    # -- transactions ----------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._transaction is not None

    def begin(self) -> None:
        if self._transaction is not None:
            raise TransactionError("a transaction is already open; commit or abort it first")
        connection = self.catalogue.engine.connect()
        if connection.dialect.name == "sqlite":
            connection = connection.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            self._transaction = connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection_in_txn = connection

    def commit(self) -> None:
        transaction, connection = self._take_transaction("commit")
        try:
            transaction.commit()
        except sa.exc.DBAPIError as exc:
            self._forget_schema_changes()
            raise TransactionError(f"the transaction could not be committed: {exc.orig}") from None
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
        with self.catalogue.engine.connect() as connection:
            self._reading = connection
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
    def _connection(self, *, write: bool) -> Iterator[sa.Connection]:
        """The connection an operation runs on, in a (sub-)transaction of its own."""
        if self._connection_in_txn is not None:
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
            with write_transaction(self.catalogue.engine) as connection:
                yield connection
        else:
            with self.catalogue.engine.connect() as connection:
                yield connection

    @contextmanager
    def _schema_connection(self, path: str) -> Iterator[sa.Connection]:
        """A connection for DDL on the directory ``path`` (see the module docstring)."""
        if self._connection_in_txn is not None:
            if self.catalogue.backend == "mariadb":
                raise SchemaChangeInTransaction(
                    f"cannot change the schema of {path} inside a transaction on MariaDB "
                    "(its DDL commits implicitly): do it before begin()"
                )
            self._schema_touched.add(path)
        with self._connection(write=True) as connection:
            yield connection

    def _run(
        self, operation: Callable[[sa.Connection], T], *, write: bool, retry: bool = True
    ) -> T:
        """Run ``operation``; when the database says a table or column is missing, the
        cached schema was stale (another process changed it): reload and retry once
        (unless ``retry`` is false: the operation consumes a one-shot iterator)."""
        for attempt in (1, 2) if retry else (2,):
            try:
                with self._connection(write=write) as connection:
                    return operation(connection)
            except (sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
                self.catalogue.cache.invalidate()
                _raise_if_unavailable(exc)
                if attempt == 2 or self.in_transaction:
                    raise CatalogueError(
                        f"the database refused the operation: {exc.orig}"
                    ) from None
        raise AssertionError("unreachable")

    def _stream(
        self, build: Callable[[sa.Connection], sa.Executable], convert: Callable[[Any], T]
    ) -> ResultStream[T]:
        """Execute a query now (errors surface at the call) and stream its rows."""
        if self._connection_in_txn is not None or self._reading is not None:
            # Inside a transaction the rows are read at once: later operations of the same
            # transaction need its connection, which an open server-side cursor would block
            # (and inside reading() the result is small by contract).
            rows = self._run(lambda c: c.execute(build(c)).all(), write=False)
            return ResultStream(rows, convert)

        for attempt in (1, 2):
            connection = self.catalogue.engine.connect().execution_options(
                stream_results=True, yield_per=STREAM_BATCH
            )
            try:
                result = connection.execute(build(connection))
            except (sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
                connection.close()
                self.catalogue.cache.invalidate()
                _raise_if_unavailable(exc)
                if attempt == 2:
                    raise CatalogueError(f"the database refused the query: {exc.orig}") from None
                continue
            except BaseException:
                connection.close()
                raise
            return ResultStream(result, convert, result=result, connection=connection)
        raise AssertionError("unreachable")

    # -- paths and directories -------------------------------------------------------

    def _abs(self, path: str) -> str:
        return paths.normalise(path, self._cwd)

    def _directory(
        self, connection: sa.Connection, path: str, *, fresh: bool = False
    ) -> DirectoryInfo:
        if len(path) > paths.MAX_PATH:
            raise NoSuchDirectory(f"no such directory: {path[:60]}... (path too long)")
        if self.in_transaction and path in self._schema_touched:
            # This transaction changed it: read it here and keep the uncommitted schema out
            # of the cache every session shares.
            return load_directory(connection, path)
        return self.catalogue.cache.get(connection, path, fresh=fresh)

    # -- hooks the constraint operations override ------------------------------------

    def _check_not_null(
        self,
        connection: sa.Connection,
        info: DirectoryInfo,
        values: Mapping[str, object],
        *,
        insert: bool = False,
    ) -> None:
        """Raise if ``values`` leaves a not-null attribute NULL."""

    def _after_write(
        self, connection: sa.Connection, info: DirectoryInfo, names: Sequence[str] | None
    ) -> None:
        """Verify the constraints on the entries just written (``None``: on every entry),
        in the same transaction, which a violation rolls back."""

    def _drop_constraints_on(
        self, connection: sa.Connection, info: DirectoryInfo, attribute: str
    ) -> None:
        """Forget the constraints that name ``attribute`` (it is being removed)."""

    def _drop_indexes_on(
        self, connection: sa.Connection, info: DirectoryInfo, attribute: Attribute
    ) -> None:
        """Drop the indexes that name ``attribute`` (it is being removed; SQLite cannot
        drop an indexed column)."""
