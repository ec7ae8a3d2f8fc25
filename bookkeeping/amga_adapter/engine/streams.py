"""Result iterators that stream from the database and release their connection."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import cursor as _cursor

from bookkeeping import db_errors

T = TypeVar("T")

STREAM_BATCH = 1000


class ResultStream(Iterator[T], Generic[T]):
    """Rows of an executed statement, converted one by one.

    Owns its connection when it ran outside a transaction: exhausting, ``close()`` or leaving
    a ``with`` block closes the cursor and gives the connection back to the pool.
    """

    def __init__(
        self,
        rows: Iterable[Any],
        convert: Callable[[Any], T],
        *,
        result: sa.CursorResult[Any] | None = None,
        connection: sa.Connection | None = None,
    ) -> None:
        self._rows = iter(rows)
        self._convert = convert
        # Rows straight from a result: ``take`` fetches them by the batch.
        self._fetchmany: Callable[[int], Sequence[Any]] | None = (
            rows.fetchmany if rows is result and result is not None else None
        )
        # Tuples wanted from a result whose columns need no conversion: after the first
        # batch (which empties the result's own one-row read-ahead), ``take`` fetches the
        # driver's tuples from its cursor as they are, with no Row made and no Python step
        # per row (the protocol server's dumps).
        self._raw: sa.CursorResult[Any] | None = (
            result if rows is result and convert is tuple and _raw_ready(result) else None
        )
        self._raw_started = False
        self._closed = False
        # A stream dropped half-read must not keep a pooled connection checked out, nor
        # leave its server-side cursor to the driver's own finaliser (psycopg warns). A
        # finalizer, unlike __del__, holds the result and connection itself, so they outlive
        # the stream even when it dies in a reference cycle, and are closed first.
        self._release: Callable[[], object] = (
            weakref.finalize(self, _release, result, connection)
            if result is not None or connection is not None
            else _nothing
        )

    def __iter__(self) -> ResultStream[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            row = next(self._rows)
        except StopIteration:
            self.close()
            raise
        except sa.exc.DBAPIError as exc:
            self.close()
            raise db_errors.translate(exc, "reading the result") from None
        except BaseException:
            self.close()
            raise
        return self._convert(row)

    def take(self, size: int) -> list[T]:
        """Up to ``size`` items at once, fewer only at the end (the stream is then closed):
        one fetch and one conversion pass per batch instead of a frame per row, for
        callers that pass rows on by the batch (the protocol server's result stream)."""
        if self._closed:
            return []
        raw = self._raw
        try:
            if self._fetchmany is not None and raw is not None and self._raw_started:
                rows = _fetch_raw(raw, size)
                if len(rows) < size:
                    self.close()
                return rows if type(rows) is list else list(rows)
            if self._fetchmany is not None:
                rows = self._fetchmany(size)
                self._raw_started = True
            else:
                rows = list(islice(self._rows, size))
        except sa.exc.DBAPIError as exc:
            self.close()
            raise db_errors.translate(exc, "reading the result") from None
        except BaseException:
            self.close()
            raise
        if len(rows) < size:
            self.close()
        return list(map(self._convert, rows))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._release()

    def __enter__(self) -> ResultStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raw_ready(result: sa.CursorResult[Any] | None) -> bool:
    """Whether ``result``'s rows may be read from its DB-API cursor: no column has a
    result processor (a Row then holds the driver's values as they are) and the fetch
    strategy keeps nothing but what its ``fetchmany`` hands out (the plain one, or the
    buffered one of server-side cursors: empty after a fetch of at least its read-ahead)."""
    if result is None or result.cursor is None:
        return False
    strategy = type(result.cursor_strategy)
    if strategy not in (_cursor.CursorFetchStrategy, _cursor.BufferedRowCursorFetchStrategy):
        return False
    processors = getattr(result._metadata, "_processors", None)
    return processors is not None and not any(processors)


def _fetch_raw(result: sa.CursorResult[Any], size: int) -> Sequence[Any]:
    """The next ``size`` rows from the result's DB-API cursor, a driver error raised as
    SQLAlchemy raises it (translated and with the connection invalidated when lost)."""
    cursor = result.cursor
    try:
        return cursor.fetchmany(size)
    except Exception as exc:
        result.cursor_strategy.handle_exception(result, cursor, exc)
        raise  # handle_exception always raises; this is for the type checker


def _nothing() -> None:
    pass


def _release(result: sa.CursorResult[Any] | None, connection: sa.Connection | None) -> None:
    try:
        if result is not None:
            result.close()
    finally:
        if connection is not None:
            connection.close()


def chained(first: Iterable[T], stream: ResultStream[T]) -> ResultStream[T]:
    """Some already-known items, then a stream (``dir``: sub-directories, then entries)."""

    def items() -> Iterator[T]:
        yield from first
        yield from stream

    return _Wrapped(items(), stream)


class _Wrapped(ResultStream[T]):
    def __init__(self, items: Iterator[T], inner: ResultStream[T]) -> None:
        super().__init__(items, lambda item: item)
        self._inner = inner

    def close(self) -> None:
        super().close()
        self._inner.close()
