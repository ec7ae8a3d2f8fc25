"""The PEP 249 exception hierarchy, rooted in the project's own error hierarchy.

Every class keeps the name PEP 249 gives it (code written for any DB-API driver catches
``module.ProgrammingError``) and carries a stable numeric ``code`` like every project error.
"""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class Warning(BookkeepingError):  # noqa: A001 - the name is fixed by PEP 249
    """Important warnings, e.g. data truncation (PEP 249)."""

    code = 700


class Error(BookkeepingError):
    """Base of every error this driver raises (PEP 249)."""

    code = 701


class InterfaceError(Error):
    """Misuse of the driver itself: a closed cursor or connection, a bad DSN."""

    code = 702


class DatabaseError(Error):
    """An error reported by the catalogue behind the driver."""

    code = 703


class DataError(DatabaseError):
    """A value does not fit its column: wrong type, out of range."""

    code = 704
    kind = Kind.DATA


class OperationalError(DatabaseError):
    """The catalogue could not be reached or the operation failed outside the user's control."""

    code = 705


class IntegrityError(DatabaseError):
    """A constraint was violated: a duplicate, a NULL in a NOT NULL column."""

    code = 706
    kind = Kind.CONSTRAINT


class InternalError(DatabaseError):
    """The catalogue is in an inconsistent state."""

    code = 707
    kind = Kind.INTERNAL


class ProgrammingError(DatabaseError):
    """A wrong SQL statement, an unknown table or column, a wrong number of parameters."""

    code = 708
    kind = Kind.SYNTAX


class NotSupportedError(DatabaseError):
    """A SQL construct the catalogue cannot execute exactly; the message names it."""

    code = 709
    kind = Kind.UNSUPPORTED


__all__ = [
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
]
