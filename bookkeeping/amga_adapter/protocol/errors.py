"""Errors of the wire protocol itself (before any catalogue work happens).

Their codes travel as the response code, so they are stable and unique: the protocol's
block is 60-69 (``3`` is "the database is unavailable, retry", ``bookkeeping.errors``).
"""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind


class ProtocolError(BookkeepingError):
    """A request line could not be understood; nothing was executed."""

    code = 69
    kind = Kind.SYNTAX
    sqlstate = "08P01"


class UnknownCommand(ProtocolError):
    """The first word of the request is not a command the server knows."""

    code = 65


class MalformedRequest(ProtocolError):
    """The command is known but its arguments are wrong (count, quoting, numbers)."""

    code = 60


class LineTooLong(ProtocolError):
    """A request line exceeded the server's maximum line length and was discarded."""

    code = 61


class NotLoggedIn(ProtocolError):
    """Login failed or the resumed session is unknown; the server closes the connection."""

    code = 62
    kind = Kind.AUTHENTICATION
    sqlstate = "28000"


class CommandAborted(ProtocolError):
    """The client sent CAN (``\\030``) while the command ran."""

    code = 63
    kind = Kind.INVALID
    sqlstate = "57014"


class UploadError(ProtocolError):
    """``put`` outside an upload, or a put whose value count does not match the upload."""

    code = 64
    kind = Kind.INVALID
