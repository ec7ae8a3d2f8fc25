"""``selectattr_union`` over the AMGA protocol, which has no such command: one ``selectattr``
per directory, merged as the engine's one-statement UNION ALL (``query/union.py``) orders
them.

Each branch is the query with its bare attribute names written as attributes of its
directory. The union's ``order by`` keys go to every branch (keys that are not selected
travel as extra items and are dropped again) and its ``limit``/``offset`` become a cut of
each branch to ``offset + limit`` rows; the ordered branches are merged (NULL lowest, as the
engine sorts), then the offset and limit applied. ``distinct``: each branch distinct, and
rows repeated across branches dropped. Without ``order by`` the branches follow one another
in the order given, each read when the one before is done (streamed); with it, the branches
are read side by side over the one connection, so all but one are held in memory.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from functools import total_ordering
from typing import TYPE_CHECKING, Any

from bookkeeping.amga_adapter.client.remote.query_text import text_of
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.query import ast, parse_condition, parse_select_items
from bookkeeping.amga_adapter.query.errors import QuerySyntaxError

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.client.remote.session import RemoteSession

Row = tuple[Any, ...]


def select_union(
    session: RemoteSession,
    directories: Sequence[str],
    items: Sequence[str],
    condition: str,
    with_directory: bool,
) -> Iterator[Row]:
    if isinstance(directories, str):
        raise TypeError("directories must be a sequence of paths, not one string")
    items = list(items)
    if not items:
        raise QuerySyntaxError("select at least one attribute", "", 0)
    nodes = parse_select_items(items)
    parsed = parse_condition(condition)  # bad text is an error even with no directory
    targets = [paths.normalise(directory) for directory in directories]
    branches = [_Branch(target, nodes, parsed) for target in targets]
    if not branches:
        return iter(())
    width = len(nodes)
    streams = (branch.rows(session) for branch in branches)
    if parsed.order_by:
        descending = [item.descending for item in parsed.order_by]
        keyed = [
            _keyed(index, branch, stream, descending)
            for index, (branch, stream) in enumerate(zip(branches, streams, strict=True))
        ]
        merged: Iterable[tuple[int, Row]] = (
            (index, row) for _, index, row in heapq.merge(*keyed, key=lambda t: t[0])
        )
    else:
        merged = (
            (index, row)
            for index, stream in enumerate(streams)  # lazily: one branch on the wire at a time
            for row in stream
        )
    if parsed.distinct:
        merged = _distinct(merged, with_directory)
    if parsed.limit is not None or parsed.offset:
        first = parsed.offset or 0
        merged = itertools.islice(
            merged, first, None if parsed.limit is None else first + parsed.limit
        )
    if with_directory:
        return ((targets[index], *row[:width]) for index, row in merged)
    return (row[:width] for _, row in merged)


def _keyed(
    index: int, branch: _Branch, rows: Iterator[Row], descending: list[bool]
) -> Iterator[tuple[_Key, int, Row]]:
    for row in rows:
        yield _Key(branch.order_values(row), descending), index, row


class _Branch:
    """The query as it runs in one directory."""

    def __init__(self, directory: str, nodes: Sequence[ast.Node], parsed: ast.Condition) -> None:
        self.directory = directory
        self.items = [text_of(node, directory) for node in nodes]
        self.order_positions: list[int] = []  # per order key: its column in the branch's rows
        order = []
        for item in parsed.order_by:
            key = text_of(item.expression, directory)
            if key not in self.items:
                self.items.append(key)  # not selected: an extra item, dropped afterwards
            self.order_positions.append(self.items.index(key))
            order.append(key + (" desc" if item.descending else ""))
        parts = [] if parsed.where is None else [text_of(parsed.where, directory)]
        if order:
            parts.append("order by " + ", ".join(order))
        if parsed.limit is not None:
            parts.append(f"limit {parsed.limit + (parsed.offset or 0)}")
        if parsed.distinct:
            parts.append("distinct")
        self.condition = " ".join(parts)

    def rows(self, session: RemoteSession) -> Iterator[Row]:
        yield from session.selectattr(self.items, self.condition)

    def order_values(self, row: Row) -> list[Any]:
        return [row[position] for position in self.order_positions]


@total_ordering
class _Key:
    """Order-by values compared as the engine orders them: NULL lowest, strings by code
    point (Python's own string order), each key ascending or descending."""

    __slots__ = ("values", "descending")

    def __init__(self, values: list[Any], descending: list[bool]) -> None:
        self.values = values
        self.descending = descending

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.values == other.values

    def __lt__(self, other: _Key) -> bool:
        pairs = zip(self.values, other.values, self.descending, strict=True)
        for mine, theirs, descending in pairs:
            if mine == theirs:
                continue
            if mine is None or theirs is None:
                lower = mine is None  # NULL is the lowest value
            else:
                lower = mine < theirs
            return lower != descending
        return False


def _distinct(rows: Iterable[tuple[int, Row]], with_directory: bool) -> Iterator[tuple[int, Row]]:
    seen: set[tuple[object, ...]] = set()
    for index, row in rows:
        key = (index, *row) if with_directory else row
        if key not in seen:
            seen.add(key)
            yield index, row
