"""PEP 249 cursors: each execute translates one statement into catalogue operations and
streams the result rows from the catalogue's iterator."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from bookkeeping.errors import BookkeepingError
from bookkeeping.jdbc_compat.errors_map import to_dbapi
from bookkeeping.jdbc_compat.exceptions import DataError, InterfaceError, ProgrammingError
from bookkeeping.jdbc_compat.plans import InsertRows, Plan
from bookkeeping.jdbc_compat.translate import translate

if TYPE_CHECKING:
    from bookkeeping.jdbc_compat.connection import Connection

Description = tuple[str, Any, None, None, None, None, None]


class Cursor:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.rowcount = -1
        self.description: tuple[Description, ...] | None = None
        self.lastrowid = None
        self._rows: Iterator[tuple[object, ...]] | None = None
        self._closed = False

    # -- executing ---------------------------------------------------------------------------

    def execute(self, operation: str, parameters: Sequence[object] = ()) -> Cursor:
        self._check_open()
        self._reset()
        plan = self._plan(operation, parameters)
        self._run(plan)
        return self

    def executemany(self, operation: str, seq_of_parameters: Iterable[Sequence[object]]) -> Cursor:
        """Inserts of all parameter sets go to the catalogue as one ``addentries``."""
        self._check_open()
        self._reset()
        plans = [self._plan(operation, parameters) for parameters in seq_of_parameters]
        inserts = [p for p in plans if isinstance(p, InsertRows)]
        if plans and len(inserts) == len(plans):
            first = inserts[0]
            rows = tuple(row for insert in inserts for row in insert.rows)
            plans = [InsertRows(first.directory, first.attributes, rows, first.name_slot)]
        total = 0
        for plan in plans:
            self._run(plan)
            if self._rows is not None:
                raise ProgrammingError("executemany cannot run a statement that returns rows")
            total += max(self.rowcount, 0)
        self.rowcount = total
        return self

    def _plan(self, operation: str, parameters: Sequence[object]) -> Plan | None:
        schema = self.connection._schema
        try:
            try:
                return translate(operation, parameters, schema)
            except ProgrammingError:
                if schema.fresh:
                    raise
                schema.refresh()  # another connection may have changed the schema since
                return translate(operation, parameters, schema)
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc
        # The SQL parser (sqlglot) recurses over the statement and converts its numbers:
        # a hostile statement must still end in a PEP 249 error.
        except RecursionError:
            raise ProgrammingError(
                "the statement is nested too deeply (or its and/or chain is too long) to "
                "be parsed; use IN (...) for a list of values"
            ) from None
        except OverflowError as exc:
            raise DataError(f"a number of the statement is out of range: {exc}") from None
        except ValueError as exc:  # e.g. an integer of thousands of digits
            raise DataError(f"a value of the statement cannot be read: {exc}") from None

    def _run(self, plan: Plan | None) -> None:
        outcome = self.connection._execute(plan)
        self.rowcount = outcome.rowcount
        self._rows = outcome.rows
        if outcome.columns is not None:
            self.description = tuple(
                (column.name, column.type_code, None, None, None, None, None)
                for column in outcome.columns
            )

    # -- fetching ----------------------------------------------------------------------------

    def fetchone(self) -> tuple[object, ...] | None:
        rows = self._result()
        try:
            return next(rows)
        except StopIteration:
            return None
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc

    def fetchmany(self, size: int | None = None) -> list[tuple[object, ...]]:
        rows = self._result()
        try:
            return list(islice(rows, self.arraysize if size is None else size))
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc

    def fetchall(self) -> list[tuple[object, ...]]:
        rows = self._result()
        try:
            return list(rows)
        except BookkeepingError as exc:
            raise to_dbapi(exc) from exc

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        return self

    def __next__(self) -> tuple[object, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def _result(self) -> Iterator[tuple[object, ...]]:
        self._check_open()
        if self._rows is None:
            raise ProgrammingError("no result set: the last statement returned no rows")
        return self._rows

    # -- the rest of PEP 249 -----------------------------------------------------------------

    def setinputsizes(self, sizes: Sequence[object]) -> None:
        """Accepted and ignored (PEP 249 allows it): values are typed by their attributes."""
        self._check_open()

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        self._check_open()

    def close(self) -> None:
        """Close; closing again is an operation on a closed cursor (PEP 249: an Error), as
        it is for a connection."""
        self._check_open()
        self._reset()
        self._closed = True

    @property
    def closed(self) -> bool:
        """Closed, or its connection is (a common extension: psycopg's ``closed``)."""
        return self._closed or self.connection.closed

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.closed:
            self.close()

    def release_result(self) -> None:
        """Close the result set, if any (the connection's close calls it: the rows left
        unread must not keep a database cursor open until the garbage collector runs)."""
        self._reset()

    def _reset(self) -> None:
        if self._rows is not None:
            close = getattr(self._rows, "close", None)
            if close is not None:
                close()
        self._rows = None
        self.description = None
        self.rowcount = -1

    def _check_connection(self) -> None:
        if self.connection.closed:
            raise InterfaceError("the connection is closed")

    def _check_open(self) -> None:
        self._check_connection()
        if self._closed:
            raise InterfaceError("the cursor is closed")
