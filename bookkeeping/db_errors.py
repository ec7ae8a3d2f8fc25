"""What a driver error means, from the database's own error code (never its text).

SQLAlchemy wraps every driver error in ``sqlalchemy.exc.DBAPIError``; the database's code is
on the wrapped driver exception: psycopg's ``sqlstate`` (PostgreSQL), PyMySQL's error number
(its first argument, MariaDB), ``sqlite_errorcode`` (SQLite), the ORA number (Oracle).
``classify`` turns it into a ``Failure``; ``translate`` into one of our errors whose message
names no SQL, table or driver hint (those go to the log).
"""

from __future__ import annotations

import logging
import sqlite3
from enum import Enum

import sqlalchemy as sa

from bookkeeping.errors import (
    BookkeepingError,
    DatabaseUnavailable,
    InternalFailure,
    SchemaNotInitialised,
    ValueOutOfRange,
)

log = logging.getLogger(__name__)


class Failure(Enum):
    UNAVAILABLE = "unavailable"  # the server is down, restarting or lost the connection
    CONTENTION = "contention"  # deadlock, serialisation failure, busy: the same call may pass
    MISSING_OBJECT = "missing object"  # a table or column is not there (stale schema cache)
    OVERFLOW = "overflow"  # a number out of the column's or the arithmetic's range
    NOT_A_DATABASE = "not a database"  # the SQLite file is something else
    OTHER = "other"


_POSTGRESQL = {
    "22003": Failure.OVERFLOW,  # numeric_value_out_of_range
    "42P01": Failure.MISSING_OBJECT,  # undefined_table
    "42703": Failure.MISSING_OBJECT,  # undefined_column
    "40001": Failure.CONTENTION,  # serialization_failure
    "40P01": Failure.CONTENTION,  # deadlock_detected
    "55P03": Failure.CONTENTION,  # lock_not_available
    "53300": Failure.UNAVAILABLE,  # too_many_connections
    "57P01": Failure.UNAVAILABLE,  # admin_shutdown
    "57P02": Failure.UNAVAILABLE,  # crash_shutdown
    "57P03": Failure.UNAVAILABLE,  # cannot_connect_now (starting up, shutting down)
}
_MARIADB = {
    1690: Failure.OVERFLOW,  # ER_DATA_OUT_OF_RANGE
    1264: Failure.OVERFLOW,  # ER_WARN_DATA_OUT_OF_RANGE (strict mode)
    1146: Failure.MISSING_OBJECT,  # ER_NO_SUCH_TABLE
    1054: Failure.MISSING_OBJECT,  # ER_BAD_FIELD_ERROR
    1213: Failure.CONTENTION,  # ER_LOCK_DEADLOCK
    1205: Failure.CONTENTION,  # ER_LOCK_WAIT_TIMEOUT
    1040: Failure.UNAVAILABLE,  # ER_CON_COUNT_ERROR
    1053: Failure.UNAVAILABLE,  # ER_SERVER_SHUTDOWN
    1927: Failure.UNAVAILABLE,  # ER_CONNECTION_KILLED
    2002: Failure.UNAVAILABLE,  # CR_CONNECTION_ERROR
    2003: Failure.UNAVAILABLE,  # CR_CONN_HOST_ERROR
    2006: Failure.UNAVAILABLE,  # CR_SERVER_GONE_ERROR
    2013: Failure.UNAVAILABLE,  # CR_SERVER_LOST
}
_SQLITE = {
    # SQLite reports a missing table or column, and nothing more precise, as SQLITE_ERROR.
    sqlite3.SQLITE_ERROR: Failure.MISSING_OBJECT,
    sqlite3.SQLITE_BUSY: Failure.CONTENTION,
    sqlite3.SQLITE_LOCKED: Failure.CONTENTION,
    sqlite3.SQLITE_CANTOPEN: Failure.UNAVAILABLE,
    sqlite3.SQLITE_IOERR: Failure.UNAVAILABLE,
    sqlite3.SQLITE_NOTADB: Failure.NOT_A_DATABASE,
    sqlite3.SQLITE_TOOBIG: Failure.OVERFLOW,
}
# The one message read: SQLite has no code for an integer overflow (sum(), abs(); see
# query.constructs.CheckedInteger) but this fixed text of its own.
_SQLITE_OVERFLOW = "integer overflow"
_ORACLE = {1426: Failure.OVERFLOW, 942: Failure.MISSING_OBJECT, 904: Failure.MISSING_OBJECT}


def driver_code(exc: sa.exc.DBAPIError) -> object:
    """The database's own code for a driver error, or None."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None)
    args = getattr(orig, "args", ())
    first = args[0] if args else None
    if isinstance(first, int):
        return first
    return getattr(first, "code", None)  # oracledb: args[0] is an _Error with .code


def classify(exc: sa.exc.DBAPIError) -> Failure:
    if exc.connection_invalidated:
        return Failure.UNAVAILABLE
    orig, code = exc.orig, driver_code(exc)
    if isinstance(orig, sqlite3.Error):
        if code == sqlite3.SQLITE_ERROR and str(orig) == _SQLITE_OVERFLOW:
            return Failure.OVERFLOW
        return _SQLITE.get(code, Failure.OTHER)  # type: ignore[call-overload]
    if isinstance(code, str):  # a SQLSTATE (psycopg)
        if code.startswith("08"):
            return Failure.UNAVAILABLE
        return _POSTGRESQL.get(code, Failure.OTHER)
    if code is None:
        # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
        if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            return Failure.UNAVAILABLE
        return Failure.OTHER
    return _MARIADB.get(code, _ORACLE.get(code, Failure.OTHER))  # type: ignore[call-overload]


def is_transient(exc: BaseException) -> bool:
    """True for errors the same call may pass on a second try: outages and contention."""
    if isinstance(exc, BookkeepingError):
        return exc.transient
    if isinstance(exc, sa.exc.DBAPIError):
        return classify(exc) in (Failure.UNAVAILABLE, Failure.CONTENTION)
    return False


def translate(exc: sa.exc.DBAPIError, what: str = "the operation") -> BookkeepingError:
    """Our error for a driver error; what the driver said goes to the log only."""
    failure = classify(exc)
    if failure is Failure.UNAVAILABLE:
        said = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return DatabaseUnavailable(
            f"the database is unavailable during {what} ({said}): retry in a moment"
        )
    if failure is Failure.CONTENTION:
        return DatabaseUnavailable(f"the database was busy during {what}: retry in a moment")
    if failure is Failure.OVERFLOW:
        return ValueOutOfRange(
            f"{what}: a number is beyond the 64-bit integer range (-2^63 .. 2^63-1)"
        )
    if failure is Failure.NOT_A_DATABASE:
        return SchemaNotInitialised(
            "the database file is not a database: point --db at a bookkeeping database, "
            "or run bk init with a new file"
        )
    if failure is Failure.MISSING_OBJECT and not isinstance(exc.orig, sqlite3.Error):
        # (SQLite says SQLITE_ERROR for a missing table and for much else: no conclusion.)
        return SchemaNotInitialised(
            "the database lacks the bookkeeping tables (or has outdated ones): run bk init"
        )
    log.error("database error during %s: %s", what, exc.orig, exc_info=exc)
    return InternalFailure(f"the database refused {what}; the server log has the details")
