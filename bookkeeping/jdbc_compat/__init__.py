"""A PEP 249 (DB-API 2.0) driver whose SQL is executed by the metadata catalogue.

``connect("sqlite:///bk.sqlite")`` (any database URL) runs the catalogue in-process;
``connect("amga://user:password@host:8822/base")`` talks to a catalogue server. Tables are the
directories under a base directory, columns their attributes; see docs/jdbc_compat.md.
"""

from __future__ import annotations

from bookkeeping.jdbc_compat.connect import connect
from bookkeeping.jdbc_compat.connection import Connection
from bookkeeping.jdbc_compat.cursor import Cursor
from bookkeeping.jdbc_compat.exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from bookkeeping.jdbc_compat.types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

apilevel = "2.0"
# Threads may share the module, not connections: a connection is one catalogue session.
threadsafety = 1
paramstyle = "qmark"

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
