"""Typed values from the wire's text: attribute types (``listattr``, cached per directory)
and the type of every selected item.

The AMGA wire sends every value as text, one per line, and NULL as an empty line
(docs/protocol.md). For numbers, times and dates an empty line can only be NULL. For text it
can be NULL or the empty string, which the in-process catalogue tells apart; such items are
marked ``PROBE`` and the session settles them with one aggregate question to the server
(``session.RemoteSession``). Entry names (``FILE``) are never empty; a string literal's
emptiness is its own.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.types import AttributeType, parse_type
from bookkeeping.amga_adapter.query import ast

# What an empty line means for an item.
NULL = "null"  # NULL: the item's values are never the empty string
EMPTY = "empty"  # the empty string: the item is never NULL
PROBE = "probe"  # either: ask the server (see the module docstring)

Decoder = Callable[[str], object]


def _text(value: str) -> str:
    return value


_DECODERS: dict[str, Decoder] = {
    "int": int,
    "smallint": int,
    "bigint": int,
    "float": float,
    "double": float,
    "numeric": decimal.Decimal,
    "varchar": _text,
    "text": _text,
    "timestamp": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
}
_NUMBER_KINDS = {"int": "int", "smallint": "int", "bigint": "int", "float": "float"}
_NUMBER_KINDS |= {"double": "float", "numeric": "decimal"}


@dataclass(frozen=True)
class Column:
    """How to read one selected item: ``kind`` is int, float, decimal, text or the
    attribute kind of a time or date; ``source`` is the attribute a ``PROBE`` asks about."""

    kind: str
    decode: Decoder
    empty: str = NULL
    source: ast.AttributeRef | None = None
    directory: str = ""  # the absolute directory of ``source``

    @property
    def source_key(self) -> tuple[str, str]:
        """(absolute directory, attribute) of ``source``; ("", "") without one."""
        return (self.directory, self.source.name) if self.source is not None else ("", "")


_INT = Column("int", int)
_FLOAT = Column("float", float)
_DECIMAL = Column("decimal", decimal.Decimal)
_TEXT = Column("text", _text, EMPTY)


def attribute_column(attribute: AttributeType | None) -> Column:
    """An attribute's values (an unknown attribute reads as text: the server has the word)."""
    kind = attribute.kind if attribute is not None else "text"
    number = _NUMBER_KINDS.get(kind)
    if number is not None:
        return {"int": _INT, "float": _FLOAT, "decimal": _DECIMAL}[number]
    return Column(kind, _DECODERS.get(kind, _text), PROBE if kind in {"varchar", "text"} else NULL)


class SchemaCache:
    """Attribute types by directory, from ``listattr``. A directory is read again when an
    item names an attribute it did not have (another client added it), when it is older
    than ``ttl`` seconds (an attribute removed and added again with another type), and when
    the session changed its schema or the server reported a schema error."""

    def __init__(self, fetch: Callable[[str], list[tuple[str, str]]], ttl: float = 30.0):
        self._fetch = fetch
        self._ttl = ttl
        self._types: dict[str, tuple[float, dict[str, AttributeType]]] = {}
        self._lock = threading.Lock()

    def attribute(self, directory: str, name: str) -> AttributeType | None:
        with self._lock:
            cached = self._types.get(directory)
        now = time.monotonic()
        if cached is not None and now - cached[0] <= self._ttl and name in cached[1]:
            return cached[1][name]
        types = {n: parse_type(spec) for n, spec in self._fetch(directory)}
        with self._lock:
            self._types[directory] = (now, types)
        return types.get(name)

    def invalidate(self, directory: str | None = None) -> None:
        with self._lock:
            if directory is None:
                self._types.clear()
            else:
                self._types.pop(directory, None)


def item_column(node: ast.Node, schema: SchemaCache, cwd: str = "/") -> Column:
    """How to read the values of a selected item (``query.parse_select_items``)."""
    if isinstance(node, ast.AttributeRef):
        if node.is_file:
            return _TEXT  # entry names are never empty (and never NULL outside aggregates)
        directory = paths.normalise(node.directory or ".", cwd)
        column = attribute_column(schema.attribute(directory, node.name))
        if column.empty == PROBE:
            return Column(column.kind, column.decode, PROBE, node, directory)
        return column
    if isinstance(node, ast.Literal):
        value = node.value
        return _TEXT if isinstance(value, str) else (_INT if isinstance(value, int) else _FLOAT)
    if isinstance(node, ast.Negate):
        return item_column(node.operand, schema, cwd)
    if isinstance(node, ast.Arithmetic):
        if node.operator == "/":
            return _FLOAT  # always real division (query/expressions.py)
        kinds = {item_column(n, schema, cwd).kind for n in (node.left, node.right)}
        return _INT if kinds == {"int"} else (_FLOAT if "float" in kinds else _DECIMAL)
    if isinstance(node, ast.FunctionCall):
        return _function_column(node, schema, cwd)
    return _TEXT


def _function_column(node: ast.FunctionCall, schema: SchemaCache, cwd: str) -> Column:
    if node.name == "count":
        return _INT
    if node.name == "avg":
        return _FLOAT
    argument = item_column(node.arguments[0], schema, cwd)
    if node.name == "sum":
        return {"int": _INT, "float": _FLOAT}.get(argument.kind, _DECIMAL)
    if node.name in {"min", "max"} and argument.kind == "text" and argument.empty == EMPTY:
        # Over no rows at all, min/max are NULL even of entry names or literals.
        return Column("text", _text, NULL)
    return argument  # min, max, lower, upper: the argument's type and emptiness


def decode_row(
    raw: list[str | None], columns: list[Column], resolved: dict[tuple[str, str], str]
) -> tuple[object, ...]:
    """One row of text as values; ``resolved`` settles the ``PROBE`` items (NULL/EMPTY)."""
    values: list[object] = []
    for text, column in zip(raw, columns, strict=True):
        if text:
            values.append(column.decode(text))
        elif column.empty == EMPTY or (
            column.empty == PROBE and resolved.get(column.source_key) == EMPTY
        ):
            values.append("")
        else:
            values.append(None)
    return tuple(values)
