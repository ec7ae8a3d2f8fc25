"""The project's error hierarchy.

Every error carries a stable numeric ``code`` (unique: it travels on the AMGA wire and in the
JSON error shape) and a ``kind`` saying what sort of failure it is. The front-ends translate
by kind, through one table each (``bookkeeping.error_table``): HTTP status, SQLSTATE (and so
the PEP 249 class). A subclass inherits its parent's kind, so a new error class gets a
sensible status everywhere without an edit to any table; it may override ``sqlstate`` where
a more precise one exists. Front-ends never inspect driver exceptions themselves
(``bookkeeping.db_errors`` classifies those).

Code blocks: 1-9 generic, 10-49 catalogue, 50-59 query language, 60-69 wire protocol,
80-89 writer, 300-399 storage and data handling (see their packages), 700-709 PEP 249,
9000-9099 benchmarks.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class Kind(StrEnum):
    """What sort of failure an error is; the front-ends' tables are keyed by it."""

    INVALID = "invalid"  # the request is wrong (a bad argument, a bad report)
    SYNTAX = "syntax"  # a query, SQL statement or protocol line that does not parse
    DATA = "data"  # a value that does not fit (type, range, length)
    NOT_FOUND = "not found"
    CONFLICT = "conflict"  # exists already, in use, contradicts what is recorded
    CONSTRAINT = "constraint"  # a declared constraint would be broken
    PERMISSION = "permission"
    AUTHENTICATION = "authentication"
    TRANSACTION = "transaction"  # begin/commit misuse, a transaction that failed
    UNSUPPORTED = "unsupported"  # a construct we refuse rather than answer inexactly
    UNAVAILABLE = "unavailable"  # transient: the database or a server is down; retry
    NOT_INITIALISED = "not initialised"  # the database has no schema: run bk init
    CONFIG = "config"  # an operator's setting is wrong
    INTERNAL = "internal"  # a bug or an inconsistent state


class BookkeepingError(Exception):
    """Base of every error this project raises on purpose."""

    code: ClassVar[int] = 1
    kind: ClassVar[Kind] = Kind.INVALID
    # A more precise SQLSTATE than the kind's (bookkeeping.error_table), when one exists.
    sqlstate: ClassVar[str | None] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message

    @property
    def transient(self) -> bool:
        """True when the same call may succeed later unchanged (an outage)."""
        return self.kind is Kind.UNAVAILABLE


class ConfigError(BookkeepingError):
    """A setting, flag, environment variable or config file is wrong."""

    code = 2
    kind = Kind.CONFIG


class DatabaseUnavailable(BookkeepingError):
    """The database server cannot be reached, refused the connection or lost it: retry."""

    code = 3
    kind = Kind.UNAVAILABLE


class SchemaNotInitialised(BookkeepingError):
    """The database has no (or an outdated) schema: run ``bk init``."""

    code = 4
    kind = Kind.NOT_INITIALISED


class ValidationError(BookkeepingError):
    """Input (a report, a parameter, a form) failed validation; nothing was changed."""

    code = 5
    kind = Kind.DATA
    sqlstate = "22023"


class InternalFailure(BookkeepingError):
    """Something failed that should not have; the server log has the details."""

    code = 6
    kind = Kind.INTERNAL


class ValueOutOfRange(BookkeepingError):
    """A number does not fit a 64-bit integer (a value, an id, a sum or a product): every
    back-end refuses it rather than store or return a different value."""

    code = 7
    kind = Kind.DATA
    sqlstate = "22003"
