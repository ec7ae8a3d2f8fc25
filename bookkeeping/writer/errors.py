"""Errors of the production writer and of the bookkeeping front-ends (codes 80-89)."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class ReportConflict(BookkeepingError):
    """A valid report contradicts what is recorded (an LFN of another job, an unknown input,
    an undeclared event type); nothing of it was written."""

    code = 80
    kind = Kind.CONFLICT
    sqlstate = "23000"


class ListingSyntaxError(BookkeepingError):
    """A ``bk ls`` where-clause cannot be parsed or uses an unknown attribute."""

    code = 82
    kind = Kind.SYNTAX
    sqlstate = "42601"
