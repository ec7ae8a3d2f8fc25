"""Errors of syncat (codes 340-359). A refused message names why, so it can be logged and
counted under that reason."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError


class SyncatError(BookkeepingError):
    """Base of syncat errors."""

    code = 340


class MalformedMessage(SyncatError):
    """The bytes are not a syncat message: not JSON, a field missing or of the wrong type."""

    code = 341
    reason = "malformed"


class UnknownMessageType(SyncatError):
    """The envelope's type is not one this version knows."""

    code = 342
    reason = "unknown-type"


class UnsupportedVersion(SyncatError):
    """The envelope's protocol version is newer (major) than this receiver speaks."""

    code = 343
    reason = "unsupported-version"


class BadSignature(SyncatError):
    """The signature is missing or does not verify with the key the message names."""

    code = 344
    reason = "bad-signature"


class UntrustedSender(SyncatError):
    """The signing key is not on this endpoint's whitelist (or is trusted for another
    sender name)."""

    code = 345
    reason = "untrusted-sender"


class ExpiredMessage(SyncatError):
    """The message's expiry time has passed (or it was issued in the future)."""

    code = 346
    reason = "expired"


class ReplayedMessage(SyncatError):
    """A message with this id has been handled already."""

    code = 347
    reason = "replayed"


class NotAllowed(SyncatError):
    """The requester has not the right the message needs on this receiver."""

    code = 348
    reason = "not-allowed"


class BrokerUnavailable(SyncatError):
    """The message broker cannot be reached or did not confirm a message."""

    code = 349


class KeyProblem(SyncatError):
    """A key file is missing or unreadable, or a public key is malformed."""

    code = 350


class AuditRefused(SyncatError):
    """The audit found more of the SE lost than the allowed fraction: it acts on nothing."""

    code = 351


class NotForThisEndpoint(SyncatError):
    """A message addressed to a storage element this endpoint does not serve."""

    code = 352
    reason = "wrong-endpoint"
