"""Errors of data handling (codes 320-339; 320 is ``LifeCycleError``, kept beside the
writer's changes in ``bookkeeping/writer/lifecycle.py``)."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class DataHandlingError(BookkeepingError):
    code = 321


class BadRecallRequest(DataHandlingError):
    """A recall request that cannot be taken (malformed files, areas, owner or lease)."""

    code = 322


class UnknownRecallRequest(DataHandlingError):
    """No recall request of that id (or not the caller's)."""

    code = 323
    kind = Kind.NOT_FOUND


class RecallUnavailable(DataHandlingError):
    """The recall daemon cannot be reached (``--recall-url`` / ``BK_RECALL_URL``)."""

    code = 324
    kind = Kind.UNAVAILABLE  # transient: a client should retry


class NoArchivePool(DataHandlingError):
    """A disk storage element has no tape pool to archive to."""

    code = 325


class KidError(DataHandlingError):
    """A KID URI that cannot be opened: malformed, an unknown scheme, files not recalled."""

    code = 326


class RecallRefused(DataHandlingError):
    """The recall daemon refused the caller: no valid token (``BK_RECALL_TOKEN``), or a
    request that is not the caller's."""

    code = 327
    kind = Kind.PERMISSION
