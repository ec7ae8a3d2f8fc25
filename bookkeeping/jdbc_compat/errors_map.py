"""Our errors -> PEP 249 exceptions, through the error's SQLSTATE (``bookkeeping.error_table``).

The PEP 249 class follows from the SQLSTATE's class (its first two characters), the way
PostgreSQL drivers choose it. A remote catalogue error arrives as its wire code; the client
has already raised the class that code stands for, so remote and in-process errors map alike.
"""

from __future__ import annotations

from bookkeeping.error_table import sqlstate_of
from bookkeeping.errors import BookkeepingError
from bookkeeping.jdbc_compat import exceptions as dbapi

# SQLSTATE -> PEP 249 class: exact states first, then the state's class.
_BY_STATE: dict[str, type[dbapi.Error]] = {
    "08P01": dbapi.InterfaceError,  # protocol_violation: the driver's own wire went wrong
}
_BY_STATE_CLASS: dict[str, type[dbapi.Error]] = {
    "08": dbapi.OperationalError,  # connection exception
    "0A": dbapi.NotSupportedError,
    "22": dbapi.DataError,
    "23": dbapi.IntegrityError,
    "25": dbapi.OperationalError,  # invalid transaction state
    "28": dbapi.OperationalError,  # invalid authorisation (a failed login)
    "42": dbapi.ProgrammingError,  # syntax error or access rule violation
    "55": dbapi.OperationalError,  # object not in prerequisite state
    "57": dbapi.OperationalError,  # operator intervention (cancelled)
    "F0": dbapi.OperationalError,  # configuration
    "XX": dbapi.InternalError,
}


def dbapi_class_of(sqlstate: str) -> type[dbapi.Error]:
    return _BY_STATE.get(sqlstate) or _BY_STATE_CLASS.get(sqlstate[:2], dbapi.DatabaseError)


def to_dbapi(error: BookkeepingError) -> dbapi.Error:
    """The PEP 249 exception for one of our errors (already-mapped errors pass through)."""
    if isinstance(error, dbapi.Error):
        return error
    sqlstate = sqlstate_of(error)
    mapped = dbapi_class_of(sqlstate)(f"{error} [catalogue error {type(error).__name__}]")
    mapped.details = {"catalogue_code": error.code, "sqlstate": sqlstate}
    mapped.sqlstate = sqlstate  # type: ignore[misc]  # per instance, as psycopg names it
    return mapped
