"""PEP 249 connections over a catalogue back-end: one catalogue session, whose transactions
are the connection's (a transaction begins with the first write after connect, commit or
rollback; reads before it see committed data)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping

from bookkeeping.errors import BookkeepingError
from bookkeeping.jdbc_compat import exceptions, executor
from bookkeeping.jdbc_compat.backend import Backend
from bookkeeping.jdbc_compat.cursor import Cursor
from bookkeeping.jdbc_compat.errors_map import to_dbapi
from bookkeeping.jdbc_compat.exceptions import InterfaceError
from bookkeeping.jdbc_compat.plans import Plan
from bookkeeping.jdbc_compat.schema_cache import CachedSchema
from bookkeeping.jdbc_compat.views import View


class Connection:
    Warning = exceptions.Warning
    Error = exceptions.Error
    InterfaceError = exceptions.InterfaceError
    DatabaseError = exceptions.DatabaseError
    DataError = exceptions.DataError
    OperationalError = exceptions.OperationalError
    IntegrityError = exceptions.IntegrityError
    InternalError = exceptions.InternalError
    ProgrammingError = exceptions.ProgrammingError
    NotSupportedError = exceptions.NotSupportedError

    def __init__(self, backend: Backend, views: Mapping[str, View] | None = None) -> None:
        self._backend = backend
        # Read-only views by table name (bookkeeping.jdbc_compat.views); a DB-API extension,
        # like the views a database defines. They shadow directories of the same name.
        self.views: dict[str, View] = dict(views or {})
        self._schema = CachedSchema(backend, self.views)
        self.closed = False
        # The cursors whose open result sets close() must close: a result set read part way
        # holds a database cursor, and with it locks on its table, until it is closed.
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()

    def cursor(self) -> Cursor:
        self._check_open()
        cursor = Cursor(self)
        self._cursors.add(cursor)
        return cursor

    def commit(self) -> None:
        self._check_open()
        if self._backend.in_transaction:
            self._call(self._backend.commit)

    def rollback(self) -> None:
        self._check_open()
        if self._backend.in_transaction:
            self._call(self._backend.abort)
            self._schema.refresh()

    def close(self) -> None:
        """Close; uncommitted changes are rolled back (PEP 249)."""
        self._check_open()
        try:
            for cursor in list(self._cursors):
                cursor.release_result()
            if self._backend.in_transaction:
                self._call(self._backend.abort)
        finally:
            self.closed = True
            self._backend.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def _execute(self, plan: Plan | None) -> executor.Outcome:
        self._check_open()
        schema_change = executor.is_schema_change(plan)
        try:
            if schema_change:
                # The catalogue changes schemas outside transactions (MariaDB's DDL commits
                # implicitly anyway), so DDL first commits what is pending, as on MariaDB.
                if self._backend.in_transaction:
                    self._backend.commit()
            elif executor.is_write(plan) and not self._backend.in_transaction:
                # Reads outside a transaction read committed data and hold no lock (on
                # SQLite an open transaction holds the write lock); the first write begins the
                # transaction that commit() or rollback() ends.
                self._backend.begin()
            return executor.run(plan, self._backend)
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc
        finally:
            if schema_change:
                self._schema.refresh()

    def _call(self, operation: Callable[[], None]) -> None:
        try:
            operation()
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")
