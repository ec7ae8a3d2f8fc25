"""Catalogue errors -> PEP 249 exceptions, by their stable numeric code (the same code
travels on the AMGA wire, so remote and in-process errors map alike)."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError
from bookkeeping.jdbc_compat import exceptions as dbapi

# Codes of bookkeeping/amga_adapter/errors.py, amga_adapter/query/errors.py and
# bookkeeping/errors.py (3).
_BY_CODE: dict[int, type[dbapi.Error]] = {
    3: dbapi.OperationalError,  # DatabaseUnavailable
    11: dbapi.ProgrammingError,  # NoSuchDirectory
    12: dbapi.ProgrammingError,  # NoSuchEntry
    13: dbapi.ProgrammingError,  # NoSuchAttribute
    14: dbapi.ProgrammingError,  # DirectoryExists
    15: dbapi.IntegrityError,  # EntryExists
    16: dbapi.ProgrammingError,  # AttributeExists
    17: dbapi.OperationalError,  # DirectoryNotEmpty
    20: dbapi.ProgrammingError,  # PermissionDenied (as PostgreSQL drivers report it)
    21: dbapi.OperationalError,  # AuthenticationFailed
    # NoSuchUser: the driver manages no users, so it meets one only when logging in, a
    # failed login like a wrong password (as psycopg and PyMySQL report a bad role).
    22: dbapi.OperationalError,
    30: dbapi.DataError,  # TypeMismatch
    31: dbapi.ProgrammingError,  # InvalidName
    32: dbapi.ProgrammingError,  # InvalidType
    33: dbapi.DataError,  # InvalidValue
    37: dbapi.IntegrityError,  # ConstraintViolation
    38: dbapi.ProgrammingError,  # NoSuchConstraint
    39: dbapi.OperationalError,  # TransactionError
    40: dbapi.OperationalError,  # SchemaChangeInTransaction
    41: dbapi.ProgrammingError,  # InvalidPattern
    50: dbapi.ProgrammingError,  # QueryError (query language)
    51: dbapi.ProgrammingError,  # QuerySyntaxError
    52: dbapi.ProgrammingError,  # QueryTypeError: e.g. text compared with a number
    # The AMGA protocol's own codes (docs/protocol.md), and the client's lost connection.
    60: dbapi.InterfaceError,  # malformed request
    61: dbapi.InterfaceError,  # request line too long
    62: dbapi.OperationalError,  # not logged in / unknown session
    63: dbapi.OperationalError,  # aborted
    -1: dbapi.OperationalError,  # connection lost
}


def to_dbapi(error: BookkeepingError) -> dbapi.Error:
    """The PEP 249 exception for a catalogue error (already-mapped errors pass through)."""
    if isinstance(error, dbapi.Error):
        return error
    kind = _BY_CODE.get(int(getattr(error, "code", 0) or 0), dbapi.DatabaseError)
    mapped = kind(f"{error} [catalogue error {type(error).__name__}]")
    mapped.details = {"catalogue_code": error.code}
    return mapped
