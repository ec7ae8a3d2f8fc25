"""Errors of the benchmark runner (codes 9000-9099)."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class BenchError(BookkeepingError):
    """Base of the benchmark runner's errors."""

    code = 9000


class BenchDataError(BenchError):
    """The benchmark database cannot be used (not empty, no server configured)."""

    code = 9001


class BenchRunFailed(BenchError):
    """The benchmark suite itself failed; its output says which test."""

    code = 9002
    kind = Kind.INTERNAL
