"""How one part of a join computed in Python is read from the catalogue.

- :class:`TableFetch`: one ``selectattr`` over a directory, or over the inner-joined
  directories the query language can join itself (the statement's "core").
- :class:`PartitionFetch`: a :class:`PartitionedTable` view, one ``selectattr`` per
  sub-directory (listed when the statement runs, so a directory a writer has just added is
  read), each row tagged with its sub-directory's name.
- :class:`UnfoldFetch`: a :class:`NameValueTable` view whose name is not fixed: the entries
  are read with every attribute (listed when the statement runs) and unfolded into one
  ``(key, name, value)`` row per attribute that is set.

Every fetch can be *restricted* to the rows whose key is one of the values the rows joined
so far hold (``key in (...)``, in chunks), so that joining a few rows reads a few rows.
``build_fetch`` picks the fetch of a part and its slots in the joined row (``Layout``); the
joins in Python (``join.py``) and EXISTS subqueries (``subquery.py``) both use it.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlglot import exp

from bookkeeping.chunking import chunked
from bookkeeping.jdbc_compat import plans
from bookkeeping.jdbc_compat.backend import Backend
from bookkeeping.jdbc_compat.conditions import QueryLanguageWriter
from bookkeeping.jdbc_compat.literals import render_literal
from bookkeeping.jdbc_compat.plans import CatalogueQuery
from bookkeeping.jdbc_compat.schema import ENTRY_NAME, ENTRY_TYPE, reference
from bookkeeping.jdbc_compat.scope import NAME, PARTITION, VALUE, ResolvedColumn, Scope, Source
from bookkeeping.jdbc_compat.views import NameValueTable, PartitionedTable

IN_CHUNK = 500
# A join step reads only the matching rows of its table when the rows so far hold at most
# this many distinct keys; beyond, reading the table once is cheaper than many IN lists.
MAX_RESTRICTED_KEYS = 2000

Row = list[object]
Restriction = tuple[ResolvedColumn, list[object]] | None


def _conditions(
    base: str, restriction: Restriction, ref: Callable[[ResolvedColumn], str]
) -> Iterator[str]:
    if restriction is None:
        yield base
        return
    column, values = restriction
    for chunk in chunked(values, IN_CHUNK):
        literals = ", ".join(render_literal(v) for v in chunk)
        term = f"({ref(column)} in ({literals}))"
        yield f"{base} and {term}" if base else term


def _place(width: int, positions: Sequence[int], values: Sequence[object]) -> Row:
    row: Row = [None] * width
    for position, value in zip(positions, values, strict=True):
        row[position] = value
    return row


@dataclass(frozen=True)
class TableFetch:
    query: CatalogueQuery
    positions: tuple[int, ...]

    @property
    def slots(self) -> tuple[int, ...]:
        """The joined row's slots this fetch fills."""
        return self.positions

    def rows(self, backend: Backend, width: int, restriction: Restriction = None) -> Iterator[Row]:
        query = self.query
        for condition in _conditions(query.condition, restriction, lambda c: c.ref):
            for values in backend.selectattr(query.items, condition, query.types):
                yield _place(width, self.positions, values)


@dataclass(frozen=True)
class PartitionFetch:
    directory: str  # the parent; its sub-directories are the partitions
    columns: tuple[ResolvedColumn, ...]  # attributes read (resolved against the parent)
    positions: tuple[int, ...]
    partition_positions: tuple[int, ...]
    terms: tuple[exp.Expr, ...]  # pushed conditions, written for each partition
    resolve: Callable[[exp.Column], ResolvedColumn]
    params: Sequence[object]
    not_null: tuple[int, ...] = ()  # slots never NULL: "" where the wire says NULL

    @property
    def slots(self) -> tuple[int, ...]:
        return self.positions + self.partition_positions

    def rows(self, backend: Backend, width: int, restriction: Restriction = None) -> Iterator[Row]:
        for name in sorted(backend.subdirectories(self.directory)):
            directory = posixpath.join(self.directory, name)

            def moved(column: ResolvedColumn, directory: str = directory) -> ResolvedColumn:
                return dataclasses.replace(column, directory=directory)

            writer = QueryLanguageWriter(lambda node: moved(self.resolve(node)), self.params)
            base = " and ".join(writer.write(term) for term in self.terms)
            items = tuple(moved(c).ref for c in self.columns) or (reference(directory, ENTRY_NAME),)
            types = tuple(c.type_code for c in self.columns) or (ENTRY_TYPE,)
            for condition in _conditions(base, restriction, lambda c: moved(c).ref):
                for values in backend.selectattr(items, condition, types):
                    row = _place(width, self.positions, values[: len(self.positions)])
                    for position in self.partition_positions:
                        row[position] = name
                    if backend.empty_is_null:
                        for position in self.not_null:
                            if row[position] is None:
                                row[position] = ""
                    yield row


@dataclass(frozen=True)
class UnfoldFetch:
    directory: str
    view: NameValueTable
    key_type: str
    positions: dict[str, tuple[int, ...]]  # "key", FILE, NAME, VALUE -> slots
    condition: str  # pushed conditions (about the key and the entry name)

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(p for found in self.positions.values() for p in found)

    def rows(self, backend: Backend, width: int, restriction: Restriction = None) -> Iterator[Row]:
        key = self.view.key[1]
        attributes = [(a, t) for a, t in backend.attributes(self.directory) if a != key]
        items = [reference(self.directory, key), reference(self.directory, ENTRY_NAME)]
        items += [reference(self.directory, a) for a, _ in attributes]
        types = [self.key_type, ENTRY_TYPE] + [t for _, t in attributes]
        for condition in _conditions(self.condition, restriction, lambda c: c.ref):
            for owner, entry, *values in backend.selectattr(items, condition, types):
                for (attribute, _type), value in zip(attributes, values, strict=True):
                    if value is None:
                        continue
                    row: Row = [None] * width
                    for slot, cell in (
                        ("key", owner),
                        (ENTRY_NAME, entry),
                        (NAME, self.view.name_of(attribute)),
                        # Text, as a name/value table stores it (the catalogue bookkeeping
                        # reads parameters the same way).
                        (VALUE, value if isinstance(value, str) else str(value)),
                    ):
                        for position in self.positions.get(slot, ()):
                            row[position] = cell
                    yield row


Fetch = TableFetch | PartitionFetch | UnfoldFetch


def unfold_slot(column: ResolvedColumn) -> str:
    """Which part of an unfolded row a column of a name/value view is."""
    if column.virtual in (NAME, VALUE):
        return column.virtual
    return ENTRY_NAME if column.attribute == ENTRY_NAME else "key"


def is_partition(column: ResolvedColumn) -> bool:
    return column.virtual == PARTITION


class Layout:
    """The joined row's layout: one slot per column used, in first-use order."""

    def __init__(self) -> None:
        self.columns: list[ResolvedColumn] = []

    def slot(self, column: ResolvedColumn) -> int:
        if column not in self.columns:
            self.columns.append(column)
        return self.columns.index(column)


def build_fetch(
    sources: list[Source],
    layout: Layout,
    terms: list[exp.Expr],
    writer: QueryLanguageWriter,
    scope: Scope,
    params: object,
) -> Fetch:
    """How ``sources`` (the core, or one table) are read into their slots of ``layout``."""
    wanted = {source.name for source in sources}
    positions = [i for i, c in enumerate(layout.columns) if c.source in wanted]
    columns = [layout.columns[i] for i in positions]
    view = sources[0].view
    if isinstance(view, PartitionedTable):
        real = [(p, c) for p, c in zip(positions, columns, strict=True) if not is_partition(c)]
        never_null = {attribute for sql, attribute, _ in view.columns if sql in view.not_null}
        return PartitionFetch(
            sources[0].directory,
            tuple(c for _, c in real),
            tuple(p for p, _ in real),
            tuple(p for p, c in zip(positions, columns, strict=True) if is_partition(c)),
            tuple(terms),
            scope.column,
            params,  # type: ignore[arg-type]
            tuple(p for p, c in real if c.attribute in never_null),
        )
    condition = " and ".join(writer.write(term) for term in terms)
    if isinstance(view, NameValueTable):
        slots: dict[str, list[int]] = {}
        for position, column in zip(positions, columns, strict=True):
            slots.setdefault(unfold_slot(column), []).append(position)
        key_type = sources[0].attributes[0][1]
        return UnfoldFetch(
            sources[0].directory,
            view,
            key_type,
            {slot: tuple(found) for slot, found in slots.items()},
            condition,
        )
    query = plans.CatalogueQuery(
        tuple(c.ref for c in columns), condition, tuple(c.type_code for c in columns)
    )
    return TableFetch(query, tuple(positions))
