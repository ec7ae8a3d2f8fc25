"""Errors of the aggregation service (codes 360-379); each message names the problem."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class AggregationError(BookkeepingError):
    """Base of the aggregation service's errors."""

    code = 360
    kind = Kind.INVALID


class InvalidFilter(AggregationError):
    """A search filter is malformed: an unknown field, an inverted range, a wrong type."""

    code = 361
    kind = Kind.INVALID


class QueryTooCostly(AggregationError):
    """A GraphQL document over the depth or cost limit."""

    code = 362
    kind = Kind.INVALID


class DeliveryTooLarge(AggregationError):
    """A delivery over the configured cap of files or bytes; nothing is prepared."""

    code = 363
    kind = Kind.INVALID


class UnknownQuery(AggregationError):
    """A query id that is not cached (any more) and was never searched by this user."""

    code = 364
    kind = Kind.NOT_FOUND


class UnknownDelivery(AggregationError):
    """No delivery of this user by that id or token."""

    code = 365
    kind = Kind.NOT_FOUND


class CacheUnavailable(AggregationError):
    """The response cache (Redis) cannot be reached; searches answer uncached."""

    code = 366
    kind = Kind.UNAVAILABLE


class PreparationFailed(AggregationError):
    """A file of a delivery could not be copied or verified."""

    code = 367
    kind = Kind.DATA


class InvalidDescription(AggregationError):
    """A metadata description (``bk extract --mdd``) is malformed."""

    code = 368
    kind = Kind.INVALID


class ExtractionFailed(AggregationError):
    """A file does not match its metadata description."""

    code = 369
    kind = Kind.DATA


class NotSignedIn(AggregationError):
    """Deliveries belong to a user: asking for one needs a session or an API token."""

    code = 370
    kind = Kind.AUTHENTICATION
