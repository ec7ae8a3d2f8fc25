"""PEP 249 type objects and constructors.

A cursor's ``description`` reports each column's catalogue type (``"int"``,
``"varchar(255)"``, ``"timestamp"``...) as its type code; the type objects compare equal to
the catalogue types of their kind, so ``description[0][1] == NUMBER`` works as PEP 249 asks.
"""

from __future__ import annotations

import datetime
import time

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - name fixed by PEP 249
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802 - name fixed by PEP 249
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802 - name fixed by PEP 249
    return Timestamp(*time.localtime(ticks)[:6])


def Binary(value: bytes | bytearray | memoryview | str) -> bytes:  # noqa: N802 - PEP 249 name
    """A binary value. The catalogue has no binary attribute type, so binding one raises
    NotSupportedError; the constructor exists so that DB-API code imports unchanged."""
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def base_type(type_code: str) -> str:
    """``"varchar(255)"`` -> ``"varchar"``: the type name without its parameters."""
    return type_code.split("(", 1)[0].strip().lower()


class DBAPITypeObject:
    """Compares equal to every catalogue type of one kind."""

    def __init__(self, name: str, *base_types: str) -> None:
        self.name = name
        self.base_types = frozenset(base_types)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        if isinstance(other, str):
            return base_type(other) in self.base_types
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", "varchar", "varchar2", "char", "text")
BINARY = DBAPITypeObject("BINARY")
NUMBER = DBAPITypeObject(
    "NUMBER", "int", "integer", "bigint", "smallint", "float", "double", "numeric", "decimal"
)
DATETIME = DBAPITypeObject("DATETIME", "timestamp", "date", "time")
# The entry name (the catalogue's FILE pseudo-attribute) identifies a row.
ROWID = DBAPITypeObject("ROWID", "entry")
