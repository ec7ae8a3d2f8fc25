"""Result iterators that stream from the database and release their connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

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
        self._result = result
        self._connection = connection
        self._closed = False

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
        except BaseException:
            self.close()
            raise
        return self._convert(row)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._result is not None:
                self._result.close()
        finally:
            if self._connection is not None:
                self._connection.close()

    def __enter__(self) -> ResultStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A stream dropped half-read must not keep a pooled connection checked out.
        if not getattr(self, "_closed", True):
            self.close()


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
