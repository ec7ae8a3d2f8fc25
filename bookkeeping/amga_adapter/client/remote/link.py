"""One ``MDClient`` connection shared by remote sessions: one command on the wire at a time,
results streamed, server errors raised as the catalogue's own exceptions.

A connection carries one response at a time. A result being read stays on the wire while
it is consumed, row by row; when another command must run first (a nested query, another
thread), the rest of that result is read into memory and the reader goes on from there.
A result abandoned half-way is cancelled (CAN) and its rest discarded.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TypeVar

from bookkeeping.amga_adapter.client.client import CommandException, ConnectionLost, MDClient
from bookkeeping.amga_adapter.engine import errors as catalogue_errors
from bookkeeping.amga_adapter.protocol.errors import ProtocolError
from bookkeeping.amga_adapter.query.errors import QueryError
from bookkeeping.error_table import class_for_code
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable

T = TypeVar("T")
RawRow = list[str | None]


class RemoteCatalogueUnavailable(DatabaseUnavailable):
    """The catalogue server cannot be reached, or the connection broke during a command."""


_PLACE = re.compile(r" \(line (\d+), column (\d+)\)")


def _query_error(error_class: type[QueryError], message: str) -> QueryError:
    """A query error as the engine raised it; the server sent its message whole (problem,
    place, excerpt with caret), so that message is kept rather than formatted again."""
    error = error_class.__new__(error_class)
    BookkeepingError.__init__(error, message)
    place = _PLACE.search(message)
    error.problem = message[: place.start()] if place else message
    error.text = ""  # not sent back by the server; the excerpt is in the message
    error.line, error.column = (int(place[1]), int(place[2])) if place else (1, 1)
    error.position = 0
    return error


class RemoteLink:
    """The shared connection (thread-safe: one command at a time under ``lock``)."""

    def __init__(self, client: MDClient) -> None:
        self.client = client
        self.lock = threading.RLock()
        self._active: RowStream | None = None

    @property
    def where(self) -> str:
        return f"the catalogue server {self.client.host}:{self.client.port}"

    def call(self, what: str, operation: Callable[[MDClient], T]) -> T:
        """Run one complete command (any result still on the wire is kept first)."""
        with self.lock:
            self._free()
            with self.translated(what):
                return operation(self.client)

    def stream(self, what: str, start: Callable[[MDClient], object], width: int) -> RowStream:
        """Send a command whose response is ``width`` lines per row; its rows, streamed."""
        with self.lock:
            self._free()
            with self.translated(what):
                start(self.client)
            stream = RowStream(self, what, width)
            self._active = stream
            return stream

    def _free(self) -> None:
        if self._active is not None:
            active, self._active = self._active, None
            active.detach()

    def release(self, stream: RowStream) -> None:
        if self._active is stream:
            self._active = None

    def translated(self, what: str) -> _Translated:
        return _Translated(self, what)


class _Translated:
    """Context manager turning client failures into the project's errors, naming ``what``."""

    def __init__(self, link: RemoteLink, what: str) -> None:
        self.link = link
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            return
        if isinstance(exc, ConnectionLost):
            raise RemoteCatalogueUnavailable(
                f"lost the connection to {self.link.where} during {self.what}: {exc.server_message}"
            ) from exc
        if isinstance(exc, CommandException):
            # Our errors travel as their code: raise the same class here, so callers catch
            # NoSuchEntry or PermissionDenied whichever side of the wire they are on.
            error_class = class_for_code(exc.code)
            if error_class is None or issubclass(error_class, ProtocolError):
                return  # a protocol error: the server's code and words as they are
            if issubclass(error_class, QueryError):
                raise _query_error(error_class, exc.server_message) from exc
            error = error_class.__new__(error_class)
            BookkeepingError.__init__(error, exc.server_message)
            raise error from exc
        if isinstance(exc, OSError):
            raise RemoteCatalogueUnavailable(
                f"cannot reach {self.link.where} for {self.what}: {exc}"
            ) from exc


class RowStream(Iterator[RawRow]):
    """The rows of one response as lists of text (``None`` never appears inside a row)."""

    def __init__(self, link: RemoteLink, what: str, width: int) -> None:
        self._link = link
        self._what = what
        self._width = width
        self._buffer: deque[RawRow] = deque()
        self._live = True  # rows of this response may still be on the wire

    def __iter__(self) -> RowStream:
        return self

    @property
    def live(self) -> bool:
        """Rows of this response may still be on the wire."""
        return self._live

    def __next__(self) -> RawRow:
        if self._buffer:
            return self._buffer.popleft()
        with self._link.lock:
            if self._buffer:  # another command moved the rest into the buffer meanwhile
                return self._buffer.popleft()
            row = self._read() if self._live else None
        if row is None:
            raise StopIteration
        return row

    def _read(self) -> RawRow | None:
        client = self._link.client
        with self._link.translated(f"reading the result of {self._what}"):
            try:
                if client.eot():
                    self._finish()
                    return None
                return [client.fetchRow() or "" for _ in range(self._width)]
            except BaseException:
                self._finish()
                raise

    def _finish(self) -> None:
        self._live = False
        self._link.release(self)

    def detach(self) -> None:
        """Read the rest of the response into memory (the connection is needed)."""
        with self._link.lock:
            while self._live and (row := self._read()) is not None:
                self._buffer.append(row)

    def close(self) -> None:
        """Stop reading: the server is asked to stop sending, the rest is discarded."""
        with self._link.lock:
            self._buffer.clear()
            if not self._live:
                return
            client = self._link.client
            with self._link.translated(f"cancelling {self._what}"):
                try:
                    client.cancel()
                    while not client.eot():
                        client.fetchRow()
                finally:
                    self._finish()


def is_schema_error(error: BookkeepingError) -> bool:
    """Errors after which cached attribute types may be stale."""
    return isinstance(error, catalogue_errors.NoSuchAttribute | catalogue_errors.NoSuchDirectory)
