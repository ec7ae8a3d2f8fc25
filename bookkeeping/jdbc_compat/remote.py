"""The remote back-end: a catalogue server reached over the AMGA protocol with the project's
``MDClient``.

The wire carries text, one value per line, NULL as an empty line: values are decoded with
each column's catalogue type, and an empty string reads back as NULL (a protocol limit).
Rows stream; one connection serves one command at a time, so before another command runs a
result still being read is pulled into memory first.
"""

from __future__ import annotations

import datetime
import decimal
import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from bookkeeping.jdbc_compat.exceptions import InterfaceError, NotSupportedError
from bookkeeping.jdbc_compat.local import entry_path
from bookkeeping.jdbc_compat.schema import ENTRY_NAME, reference
from bookkeeping.jdbc_compat.types import base_type

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.client.client import MDClient

_DECODERS: dict[str, Callable[[str], object]] = {
    "int": int,
    "integer": int,
    "bigint": int,
    "smallint": int,
    "float": float,
    "double": float,
    "numeric": decimal.Decimal,
    "decimal": decimal.Decimal,
    "timestamp": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
}


def decode(text: str | None, type_code: str | None) -> object:
    if text is None or text == "":
        return None
    decoder = _DECODERS.get(base_type(type_code)) if type_code else None
    return text if decoder is None else decoder(text)


def connect_remote(dsn: str, *, password: str | None = None) -> RemoteBackend:
    from bookkeeping.amga_adapter.client.client import MDClient

    parts = urlsplit(dsn)
    if not parts.hostname:
        raise InterfaceError(f"an AMGA DSN is amga://user:password@host:port/base-dir, got {dsn!r}")
    base = unquote(parts.path) or "/"
    url = f"{parts.scheme}://{parts.netloc}"
    client = MDClient.from_url(url, password=password)
    return RemoteBackend(client, base)


class _Rows:
    """Rows of one ``selectattr`` read from the wire as they are consumed; ``detach`` reads
    the rest into memory so the connection is free for the next command."""

    def __init__(self, client: MDClient, types: Sequence[str | None]) -> None:
        self.client = client
        self.types = types
        self.buffer: deque[tuple[object, ...]] = deque()
        self.live = True

    def _read(self) -> tuple[object, ...] | None:
        client = self.client
        if client.eot():
            self.live = False
            return None
        return tuple(decode(client.fetchRow(), t) for t in self.types)

    def detach(self) -> None:
        while self.live and (row := self._read()) is not None:
            self.buffer.append(row)

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        return self

    def __next__(self) -> tuple[object, ...]:
        if self.buffer:
            return self.buffer.popleft()
        row = self._read() if self.live else None
        if row is None:
            raise StopIteration
        return row

    def close(self) -> None:
        self.detach()
        self.buffer.clear()


class RemoteBackend:
    empty_is_null = True

    def __init__(self, client: MDClient, base_directory: str) -> None:
        self.client = client
        self.base_directory = posixpath.normpath("/" + base_directory.strip("/"))
        self._in_transaction = False
        self._rows: _Rows | None = None

    def _c(self) -> MDClient:
        """The client, once any result still on the wire has been read."""
        if self._rows is not None:
            self._rows.detach()
            self._rows = None
        return self.client

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def begin(self) -> None:
        self._c().transaction()
        self._in_transaction = True

    def commit(self) -> None:
        self._in_transaction = False
        self._c().commit()

    def abort(self) -> None:
        self._in_transaction = False
        self._c().abort()

    def close(self) -> None:
        self._c().close()

    def directories(self) -> list[str]:
        return self.subdirectories(self.base_directory)

    def subdirectories(self, directory: str) -> list[str]:
        listing = self._c().listEntries(directory, sync=True) or []
        return [
            posixpath.basename(name.rstrip("/"))
            for name, kind in listing
            if kind.startswith("collection")
        ]

    def attributes(self, directory: str) -> list[tuple[str, str]]:
        names, types = self._c().listAttr(directory)
        return list(zip(names, types, strict=True))

    def createdir(self, path: str) -> None:
        self._c().createDir(path)

    def rmdir(self, path: str) -> None:
        self._c().rm(f"{path}/*")
        self._c().removeDir(path)

    def addattr(self, directory: str, name: str, type_: str) -> None:
        self._c().addAttr(directory, name, type_)

    def constraint_add_not_null(self, directory: str, attribute: str) -> None:
        self._c().constraintAddNotNull(directory, attribute)

    def constraint_add_unique(self, directory: str, attributes: Sequence[str]) -> None:
        self._c().constraintAddUnique(directory, ",".join(attributes))

    def addentries(self, directory: str, rows: Iterable[tuple[str, Mapping[str, object]]]) -> int:
        client = self._c()
        count = 0
        for name, values in rows:
            present = {k: _wire(v) for k, v in values.items() if v is not None}
            client.addEntry(entry_path(directory, name), list(present), list(present.values()))
            count += 1
        return count

    def setattr(self, path: str, values: Mapping[str, object]) -> None:
        if any(value is None for value in values.values()):
            raise NotSupportedError("setting NULL over the AMGA protocol (it has no NULL value)")
        wire = {k: _wire(v) for k, v in values.items()}
        self._c().setAttr(path, list(wire), list(wire.values()))

    def rm_entry(self, directory: str, name: str) -> None:
        self._c().rm(entry_path(directory, name))

    def find(self, directory: str, condition: str) -> Iterator[str]:
        names = self._c().find(directory, condition, sync=True) or []
        return iter([posixpath.basename(name) for name in names])

    def selectattr(
        self, items: Sequence[str], condition: str, types: Sequence[str | None]
    ) -> Iterator[tuple[object, ...]]:
        client = self._c()
        client.selectAttr(list(items), condition)
        self._rows = _Rows(client, types)
        return self._rows

    def updateattr(
        self, directory: str, assignments: Sequence[tuple[str, str]], condition: str
    ) -> int:
        # The protocol reports no count: count the matching entries first, in the same
        # transaction.
        counted = self.selectattr(
            [f"count({reference(directory, ENTRY_NAME)})"], condition, ["int"]
        )
        count = int(next(iter(counted))[0] or 0)  # type: ignore[call-overload]
        clauses = [f"{attribute} {expression}" for attribute, expression in assignments]
        self._c().updateAttr(directory, clauses, condition)
        return count


def _wire(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raise NotSupportedError("binary values: the catalogue has no binary attribute type")
    return value
