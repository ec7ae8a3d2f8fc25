"""What "has this replica replayed that commit?" means on each server back-end.

The router (``routing.py``) is the same for every back-end; this module holds what differs:
how a commit's position is read on the primary, how a replica is probed, how two positions
compare, and whether a reader may wait a moment for a replica to catch up.

- **PostgreSQL** streaming standbys: a position is a WAL byte offset (``pg_lsn - '0/0'``),
  taken after each commit with ``pg_current_wal_lsn()`` and compared with the standby's
  ``pg_last_wal_replay_lsn()``. No waiting: a standby behind the reader sends it to the
  primary.
- **MariaDB** GTID replicas: a position is a GTID list (``"0-1-42"``, one GTID per
  replication domain), the commit's own ``@@last_gtid``; a replica has replayed it when its
  ``@@gtid_slave_pos`` has reached every domain's sequence number (sequence numbers only
  grow within a domain under ``gtid_strict_mode``, also across a fail-over). A reader that
  needs a GTID the replica has not applied yet waits for it with ``MASTER_GTID_WAIT`` for a
  few milliseconds, which costs less than sending the read to the primary when replication
  runs ~1 ms behind, as it does on a healthy LAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bookkeeping.engines import Position
from bookkeeping.replication.errors import UnsupportedReplica


@dataclass(frozen=True)
class Probe:
    """One look at a replica."""

    replicating: bool  # still a replica (PostgreSQL: in recovery)
    replayed: Position
    lag_s: float  # math.inf when it cannot be known (replay stopped)
    problem: str | None = None  # why it is not replicating or lags, in words


class Positions(Protocol):
    """The back-end specific half of read routing."""

    name: str
    nothing: Position  # a position every replica has replayed

    def is_replica(self, connection: Connection) -> bool: ...

    def committed(self, connection: Connection) -> Position:
        """The position of the commit just made on ``connection`` (to the primary)."""

    def current(self, connection: Connection) -> Position:
        """The primary's position now (every commit so far)."""

    def probe(self, connection: Connection) -> Probe: ...

    def catch_up(self, connection: Connection, needed: Position, wait_s: float) -> Position:
        """The replica's replayed position, after waiting up to ``wait_s`` for ``needed``
        where the back-end can wait."""

    def covers(self, replayed: Position, needed: Position) -> bool: ...

    def merge(self, a: Position, b: Position) -> Position:
        """The later of two positions (per domain for GTIDs)."""

    def retryable(self, exc: BaseException) -> bool:
        """Whether a read that failed with the driver's ``exc`` on a replica may be asked
        again elsewhere."""


# -- PostgreSQL ----------------------------------------------------------------------

# serialization_failure (a query cancelled by a conflict with recovery), admin_shutdown,
# crash_shutdown, cannot_connect_now (a standby still starting).
_PG_RETRYABLE = {"40001", "57P01", "57P02", "57P03"}
_PG_PROBE = sa.text(
    "SELECT pg_is_in_recovery(), "
    "COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0), "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)
_PG_CURRENT = sa.text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
_PG_REPLAYED = sa.text("SELECT COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)")


class PostgresPositions:
    name = "postgresql"
    nothing: Position = 0

    def is_replica(self, connection: Connection) -> bool:
        return bool(connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar())

    def committed(self, connection: Connection) -> Position:
        return self.current(connection)

    def current(self, connection: Connection) -> Position:
        return int(connection.execute(_PG_CURRENT).scalar_one())

    def probe(self, connection: Connection) -> Probe:
        in_recovery, replayed, lag = connection.execute(_PG_PROBE).one()
        if not in_recovery:
            return Probe(
                False, int(replayed), 0.0, "not in recovery (promoted?): no longer a standby"
            )
        return Probe(True, int(replayed), float(lag))

    def catch_up(self, connection: Connection, needed: Position, wait_s: float) -> Position:
        return int(connection.execute(_PG_REPLAYED).scalar_one())

    def covers(self, replayed: Position, needed: Position) -> bool:
        return int(replayed or 0) >= int(needed or 0)

    def merge(self, a: Position, b: Position) -> Position:
        return max(int(a or 0), int(b or 0))

    def retryable(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) in _PG_RETRYABLE


# -- MariaDB -------------------------------------------------------------------------

# ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, ER_QUERY_INTERRUPTED (a replica shutting down
# interrupts the statements it runs); losing the connection itself is a disconnect, which
# SQLAlchemy already recognises.
_MARIADB_RETRYABLE = {1053, 1927, 1317}
_NO_PRIVILEGE = 1227


def parse_gtids(position: Position) -> dict[int, tuple[int, int]]:
    """``"0-1-42,1-2-7"`` -> ``{0: (1, 42), 1: (2, 7)}`` (domain -> server id, seq_no)."""
    if not position:
        return {}
    domains: dict[int, tuple[int, int]] = {}
    for gtid in str(position).replace("\n", "").split(","):
        gtid = gtid.strip()
        if not gtid:
            continue
        try:
            domain, server, seq = (int(part) for part in gtid.split("-"))
        except ValueError:
            raise ValueError(f"not a MariaDB GTID: {gtid!r}") from None
        if domain not in domains or seq > domains[domain][1]:
            domains[domain] = (server, seq)
    return domains


def format_gtids(domains: dict[int, tuple[int, int]]) -> str:
    return ",".join(f"{d}-{s}-{n}" for d, (s, n) in sorted(domains.items()))


class MariaDBPositions:
    name = "mariadb"
    nothing: Position = ""

    def is_replica(self, connection: Connection) -> bool:
        status = _slave_status(connection)
        return status is not None and _replicating(status)

    def committed(self, connection: Connection) -> Position:
        # The session's own last commit: exactly the transaction this reader must see.
        return str(connection.execute(sa.text("SELECT @@last_gtid")).scalar() or "")

    def current(self, connection: Connection) -> Position:
        return str(connection.execute(sa.text("SELECT @@gtid_binlog_pos")).scalar() or "")

    def probe(self, connection: Connection) -> Probe:
        status = _slave_status(connection)
        replayed = str(connection.execute(sa.text("SELECT @@gtid_slave_pos")).scalar() or "")
        if status is None:
            return Probe(False, replayed, 0.0, "not a replica (no SLAVE STATUS; promoted?)")
        if not _replicating(status):
            return Probe(False, replayed, 0.0, "replication is stopped (START SLAVE)")
        if self.covers(replayed, status.get("Gtid_IO_Pos") or ""):
            return Probe(True, replayed, 0.0)  # applied everything it has received
        if status.get("Slave_SQL_Running") != "Yes":
            return Probe(True, replayed, math.inf, "its SQL thread is stopped: it applies nothing")
        behind = status.get("Seconds_Behind_Master")
        return Probe(True, replayed, math.inf if behind is None else float(behind))

    def catch_up(self, connection: Connection, needed: Position, wait_s: float) -> Position:
        # Left to right: the wait first, then the position it reached (or not).
        row = connection.execute(
            sa.text("SELECT MASTER_GTID_WAIT(:gtid, :timeout), @@gtid_slave_pos"),
            {"gtid": str(needed), "timeout": wait_s},
        ).one()
        return str(row[1] or "")

    def covers(self, replayed: Position, needed: Position) -> bool:
        have = parse_gtids(replayed)
        return all(
            domain in have and have[domain][1] >= seq
            for domain, (_server, seq) in parse_gtids(needed).items()
        )

    def merge(self, a: Position, b: Position) -> Position:
        merged = parse_gtids(a)
        for domain, (server, seq) in parse_gtids(b).items():
            if domain not in merged or seq > merged[domain][1]:
                merged[domain] = (server, seq)
        return format_gtids(merged)

    def retryable(self, exc: BaseException) -> bool:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        return bool(args) and args[0] in _MARIADB_RETRYABLE


def _slave_status(connection: Connection) -> dict[str, Any] | None:
    try:
        row = connection.exec_driver_sql("SHOW SLAVE STATUS").mappings().first()
    except sa.exc.DBAPIError as exc:
        args: tuple[Any, ...] = getattr(exc.orig, "args", ())
        if args and args[0] == _NO_PRIVILEGE:
            raise UnsupportedReplica(
                "read routing needs to see replication status on MariaDB: grant the "
                "database user SLAVE MONITOR (or REPLICATION CLIENT) on the primary and "
                f"every replica ({args[1] if len(args) > 1 else exc.orig})"
            ) from None
        raise
    return None if row is None else dict(row)


def _replicating(status: dict[str, Any]) -> bool:
    # "Connecting": its IO thread is retrying a primary that went away; still a replica.
    return status.get("Slave_SQL_Running") == "Yes" or status.get("Slave_IO_Running") in (
        "Yes",
        "Connecting",
    )


def positions_for(dialect_name: str) -> Positions:
    if dialect_name == "postgresql":
        return PostgresPositions()
    if dialect_name in ("mysql", "mariadb"):
        return MariaDBPositions()
    raise UnsupportedReplica(
        f"read replicas need PostgreSQL (streaming standbys) or MariaDB (GTID replicas); "
        f"this database is {dialect_name}: remove BK_READ_REPLICAS"
    )
