"""``RemoteSession``: the catalogue-session operations the bookkeeping reader and the view
builder use (``bookkeeping.amga_adapter.bookkeeping.sessions``), over the AMGA protocol.

Each value comes back as text and is read with its attribute's type (``values``). An empty
line of a text attribute is NULL or the empty string, which the server's counts settle:

- a query with aggregates carries one hidden ``count(attribute)`` per text attribute, which
  changes no group and is 0 exactly where the attribute (or its min/max) is NULL;
- in a plain query, the first empty text value makes the session ask the server how many
  of the result's rows hold NULL there (one aggregate ``selectattr`` over the same filter;
  for ``getattr``, which of that entry's attributes hold a value). None: the empty values
  are empty strings; some: they read as NULL, which is exact unless one result holds both
  in one attribute. The rest of the result being read moves to memory for that question
  (the connection carries one response at a time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.client.remote import union
from bookkeeping.amga_adapter.client.remote.link import RemoteLink, RowStream, is_schema_error
from bookkeeping.amga_adapter.client.remote.query_text import (
    file_of,
    filter_text,
    not_null_in,
    ref_text,
    string_literal,
)
from bookkeeping.amga_adapter.client.remote.values import (
    EMPTY,
    NULL,
    PROBE,
    Column,
    SchemaCache,
    attribute_column,
    decode_row,
    item_column,
)
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.errors import AttributeExists, CatalogueError
from bookkeeping.amga_adapter.engine.types import parse_type
from bookkeeping.amga_adapter.query import ast, parse_select_items
from bookkeeping.errors import BookkeepingError

# An attribute whose type could not be read (the query itself then says why, or the server
# knew better): its text as sent, an empty line as NULL.
_TEXT_COLUMN = Column("text", str, NULL)


T = TypeVar("T")


class RemoteCatalogue:
    """A catalogue server behind one ``MDClient``: sessions share its connection (one
    command at a time) and its cache of attribute types."""

    def __init__(self, client: MDClient, *, schema_ttl: float = 30.0) -> None:
        self.link = RemoteLink(client)
        self.schema = SchemaCache(self._listattr, ttl=schema_ttl)

    def _listattr(self, directory: str) -> list[tuple[str, str]]:
        names, types = self.link.call(
            f"listattr {directory}", lambda client: client.listAttr(directory)
        )
        return list(zip(names, types, strict=True))

    def session(self) -> RemoteSession:
        return RemoteSession(self)


class RemoteSession:
    """One reader's session. Paths are absolute or relative to ``/`` (it never ``cd``s);
    permissions are the logged-in user's, checked by the server."""

    def __init__(self, catalogue: RemoteCatalogue) -> None:
        self.link = catalogue.link
        self.schema = catalogue.schema
        self._streams: list[RowStream] = []

    # -- queries -----------------------------------------------------------------------

    def selectattr(self, items: Sequence[str], condition: str = "") -> Iterator[tuple[Any, ...]]:
        """One tuple per result row, one typed value per selected item (streamed)."""
        items = list(items)
        nodes = parse_select_items(items)  # a syntax error is the same QuerySyntaxError
        columns = [self._column(node) for node in nodes]
        counted: dict[tuple[str, str], int] = {}
        sent = list(items)
        if any(_aggregated(node) for node in nodes):
            # A grouped query: one more aggregate changes no group and tells, row by row,
            # whether each text attribute (or its min/max) is NULL there.
            for column in columns:
                if column.source is not None and column.source_key not in counted:
                    counted[column.source_key] = len(sent)
                    sent.append(f"count({ref_text(column.source)})")
        stream = self._stream(
            f"selectattr {' '.join(items)}",
            lambda client: client.selectAttr(sent, condition),
            len(sent),
        )
        return _TypedRows(self, stream, columns, condition, counted)

    def selectattr_union(
        self,
        directories: Sequence[str],
        items: Sequence[str],
        condition: str = "",
        *,
        with_directory: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """The engine's ``CatalogueSession.selectattr_union`` (not an AMGA command): one
        ``selectattr`` per directory, merged as the engine's UNION ALL orders them."""
        return union.select_union(self, directories, items, condition, with_directory)

    def getattr(
        self, path_or_pattern: str, attributes: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        """(entry name, typed values) for one entry or the readable entries of a pattern."""
        wanted = list(attributes)
        directory = paths.split(paths.normalise(path_or_pattern))[0]
        columns = [self._attribute(directory, name) for name in wanted]
        stream = self._stream(
            f"getattr {path_or_pattern}",
            lambda client: client.getattr(path_or_pattern, wanted),
            1 + len(wanted),
        )
        return _Entries(self, stream, directory, wanted, columns)

    def listattr(self, path: str) -> list[tuple[str, str]]:
        names, types = self._call(f"listattr {path}", lambda client: client.listAttr(path))
        return list(zip(names, types, strict=True))

    def dir(self, pattern: str = ".") -> Iterator[tuple[str, str]]:
        """(absolute path, ``collection`` or ``entry``), sub-directories first."""
        stream = self._stream(f"dir {pattern}", lambda client: client.listEntries(pattern), 2)
        return _Listing(stream)

    def constraint_list(self, directory: str) -> list[str]:
        return self._call(
            f"constraint_list {directory}", lambda client: client.constraintList(directory)
        )

    # -- the schema changes ``layout.ensure_layout`` makes on an empty catalogue ----------

    def createdir(self, path: str, *, plain: bool = False) -> None:
        try:
            self._call(
                f"createdir {path}",
                lambda client: client.createPlainDir(path) if plain else client.createDir(path),
            )
        finally:
            self.schema.invalidate(paths.normalise(path))

    def ensure_attributes(self, directory: str, attributes: Mapping[str, str | None]) -> list[str]:
        """Add the attributes ``directory`` lacks (``None`` type = varchar(255)); returns the
        names this call added (one added meanwhile by another client is left to it)."""
        target = paths.normalise(directory)
        present = {name for name, _ in self.listattr(target)}
        added = []
        for name, type_ in attributes.items():
            if name in present:
                continue
            spec = parse_type(type_).spec
            try:
                self._call(
                    f"addattr {target} {name}",
                    functools.partial(_add_attribute, target=target, name=name, spec=spec),
                )
            except AttributeExists:
                continue
            finally:
                self.schema.invalidate(target)
            added.append(name)
        return added

    def constraint_add_unique(self, directory: str, attributes: Sequence[str]) -> str:
        names = ",".join(attributes)
        self._call(
            f"constraint_add_unique {directory} {names}",
            lambda client: client.constraintAddUnique(directory, names),
        )
        return ""  # the protocol does not report the name the server gave the constraint

    def close(self) -> None:
        """Results of this session still being read are cancelled."""
        streams, self._streams = self._streams, []
        for stream in streams:
            stream.close()

    # -- the follow-up questions of the module docstring ---------------------------------

    def probe_nulls(self, columns: list[Column], condition: str) -> dict[tuple[str, str], str]:
        """For each ``PROBE`` item's attribute: ``EMPTY`` when no row of ``condition``'s
        result is NULL there, else ``NULL``. What the filter itself proves costs nothing;
        the rest, one aggregate query."""
        proven = not_null_in(condition)
        resolved = {}
        sources: dict[tuple[str, str], ast.AttributeRef] = {}
        for column in columns:
            if column.empty != PROBE or column.source is None:
                continue
            if column.source_key in proven:
                resolved[column.source_key] = EMPTY
            else:
                sources.setdefault(column.source_key, column.source)
        if not sources:
            return resolved
        items: list[str] = []
        for ref in sources.values():
            items += [f"count({file_of(ref)})", f"count({ref_text(ref)})"]
        row = self._counts("selectattr (are the empty values NULL?)", items, filter_text(condition))
        for index, key in enumerate(sources):
            resolved[key] = EMPTY if row[2 * index] == row[2 * index + 1] else NULL
        return resolved

    def probe_entry(self, directory: str, name: str, attributes: list[str]) -> list[bool]:
        """Which of the entry's ``attributes`` hold a value (are not NULL), in one query."""
        items = [f"count({directory}:{attribute})" for attribute in attributes]
        condition = f"{directory}:FILE = {string_literal(name)}"
        row = self._counts(f"selectattr (NULL values of {directory}/{name})", items, condition)
        return [count > 0 for count in row]

    def _counts(self, what: str, items: list[str], condition: str) -> list[int]:
        found = self._call(what, lambda client: client.selectAttr(items, condition, sync=True))
        row = found[0] if found else []
        return [int(value or 0) for value in row] + [0] * (len(items) - len(row))

    # -- internals ---------------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[MDClient], T]) -> T:
        try:
            return self.link.call(what, operation)
        except BookkeepingError as error:
            self._after_error(error)
            raise

    def _stream(self, what: str, start: Callable[[MDClient], object], width: int) -> RowStream:
        try:
            stream = self.link.stream(what, start, width)
        except BookkeepingError as error:
            self._after_error(error)
            raise
        self._streams = [s for s in self._streams if s.live] + [stream]
        return stream

    def _after_error(self, error: BookkeepingError) -> None:
        if is_schema_error(error):
            self.schema.invalidate()  # an attribute or directory went away: read types again

    def _column(self, node: ast.Node) -> Column:
        try:
            return item_column(node, self.schema)
        except CatalogueError:
            return _TEXT_COLUMN  # unreadable schema: the query itself will say why

    def _attribute(self, directory: str, name: str) -> Column:
        try:
            return attribute_column(self.schema.attribute(directory, name))
        except CatalogueError:
            return _TEXT_COLUMN


class _TypedRows(Iterator[tuple[object, ...]]):
    """Typed rows of a ``selectattr``; ``counted``: the position of the hidden ``count``
    item of each text attribute (grouped queries), else the follow-up question settles
    them for the whole result."""

    def __init__(
        self,
        session: RemoteSession,
        stream: RowStream,
        columns: list[Column],
        condition: str,
        counted: dict[tuple[str, str], int],
    ) -> None:
        self._session = session
        self._stream = stream
        self._columns = columns
        self._width = len(columns)
        self._condition = condition
        self._counted = counted
        self._probed = bool(counted) or not any(column.empty == PROBE for column in columns)
        self._resolved: dict[tuple[str, str], str] = {}

    def __iter__(self) -> _TypedRows:
        return self

    def __next__(self) -> tuple[object, ...]:
        raw = next(self._stream)
        if self._counted:
            resolved = {key: EMPTY if raw[at] != "0" else NULL for key, at in self._counted.items()}
            return decode_row(raw[: self._width], self._columns, resolved)
        if not self._probed and any(
            not text and column.empty == PROBE
            for text, column in zip(raw, self._columns, strict=True)
        ):
            # Any question goes through the link, which first moves the rest of this
            # result to memory (one response at a time on the connection).
            self._resolved = self._session.probe_nulls(self._columns, self._condition)
            self._probed = True
        return decode_row(raw, self._columns, self._resolved)

    def close(self) -> None:
        self._stream.close()


def _aggregated(node: ast.Node) -> bool:
    return any(isinstance(n, ast.FunctionCall) and n.is_aggregate for n in ast.walk(node))


class _Entries(Iterator[tuple[str, list[Any]]]):
    def __init__(
        self,
        session: RemoteSession,
        stream: RowStream,
        directory: str,
        attributes: list[str],
        columns: list[Column],
    ) -> None:
        self._session = session
        self._stream = stream
        self._directory = directory
        self._attributes = attributes
        self._columns = columns

    def __iter__(self) -> _Entries:
        return self

    def __next__(self) -> tuple[str, list[object]]:
        raw = next(self._stream)
        name, texts = raw[0] or "", raw[1:]
        columns = list(self._columns)
        unsure = [i for i, t in enumerate(texts) if not t and columns[i].empty == PROBE]
        if unsure:
            held = self._session.probe_entry(  # the link keeps the rest of this result
                self._directory, name, [self._attributes[i] for i in unsure]
            )
            for i, has_value in zip(unsure, held, strict=True):
                columns[i] = replace(columns[i], empty=EMPTY if has_value else NULL)
        return name, list(decode_row(texts, columns, {}))

    def close(self) -> None:
        self._stream.close()


class _Listing(Iterator[tuple[str, str]]):
    def __init__(self, stream: RowStream) -> None:
        self._stream = stream

    def __iter__(self) -> _Listing:
        return self

    def __next__(self) -> tuple[str, str]:
        path, kind = next(self._stream)
        return path or "", kind or ""

    def close(self) -> None:
        self._stream.close()


def _add_attribute(client: MDClient, *, target: str, name: str, spec: str) -> None:
    client.addAttr(target, name, spec)
