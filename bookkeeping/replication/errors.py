"""Errors of replication and federation (codes 380-399)."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, ConfigError


class ReplicationError(BookkeepingError):
    """Something about replicas, the update log or a mount went wrong."""

    code = 380


class NotAPrimary(ConfigError):
    """The URL given as the primary names a standby (a server in recovery)."""

    code = 381


class UnsupportedReplica(ConfigError):
    """Read replicas of this back-end cannot give read-your-writes here."""

    code = 382


class ReadOnlyCatalogue(ReplicationError):
    """A write was sent to a slave catalogue, which only its master's log may change."""

    code = 383


class ReplicationLogError(ReplicationError):
    """The update log cannot be shipped or replayed (a gap, a bad record, no snapshot)."""

    code = 384


class MountUnavailable(ReplicationError):
    """A federated mount's server cannot be reached or refused the call."""

    code = 385


class MountConfigError(ConfigError):
    """A ``--mount`` or ``mounts`` setting is malformed."""

    code = 386
