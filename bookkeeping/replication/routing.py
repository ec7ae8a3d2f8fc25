"""Reads to database replicas, with read-your-writes.

``attach_replicas(primary, urls)`` gives the primary engine a ``ReadRouter``; readers then
ask ``engines.read_connection(engine, since)`` and get a connection to a healthy replica
that has replayed ``since`` (a replay position), or to the primary. Writers change nothing:
after each commit ``engines.note_commit`` asks the primary for the commit's position (one
round trip), which becomes the process's ``position``. What a position is, and how a
replica is probed, depends on the back-end (``positions.py``): PostgreSQL streaming
standbys (WAL positions) and MariaDB GTID replicas (``MASTER_GTID_WAIT``).

A replica is set aside, and tried again after a back-off (0.5 s doubling to 30 s), when it
cannot be reached, when it no longer replicates (promoted), or when it lags more than
``max_lag_s``. Its state is probed with one query at most every ``probe_interval_s``; a read
that needs a position the replica was not yet known to have replayed asks it again first
(on MariaDB waiting up to ``replay_wait_s`` for it).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bookkeeping.config import mask_url
from bookkeeping.engines import Position, backend_name, create_engine, set_read_routing
from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.replication.errors import NotAPrimary, UnsupportedReplica
from bookkeeping.replication.positions import Positions, positions_for

log = logging.getLogger(__name__)

DEFAULT_MAX_LAG_S = 5.0
PROBE_INTERVAL_S = 1.0
# How long a MariaDB reader waits for a replica to apply its write before reading the
# primary instead: replication runs ~1 ms behind when healthy (see docs/replication.md).
REPLAY_WAIT_S = 0.02
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
_REPLICA_FAILED = "_bk_replica_failed"


@dataclass
class Replica:
    url: str  # masked: safe to show
    engine: Engine
    replayed: Position = 0
    lag_s: float | None = None
    in_recovery: bool = True
    checked_at: float = float("-inf")
    down_until: float = 0.0
    failures: int = 0
    problem: str | None = None
    reads: int = 0

    def usable(self, max_lag_s: float) -> bool:
        return self.in_recovery and self.lag_s is not None and self.lag_s <= max_lag_s


@dataclass(frozen=True)
class ReplicaStatus:
    url: str
    state: str  # "ok", "lagging", "down", "not a standby", "unknown"
    replayed: Position
    lag_s: float | None
    retry_in_s: float
    reads: int
    problem: str | None


class ReadRouter:
    """Chooses where each read goes; thread-safe, one per primary engine."""

    def __init__(
        self,
        primary: Engine,
        replicas: Sequence[Engine],
        *,
        max_lag_s: float = DEFAULT_MAX_LAG_S,
        probe_interval_s: float = PROBE_INTERVAL_S,
        replay_wait_s: float = REPLAY_WAIT_S,
    ) -> None:
        kind = backend_name(primary)
        if kind not in ("postgresql", "mariadb") or any(backend_name(r) != kind for r in replicas):
            raise UnsupportedReplica(
                "read replicas need PostgreSQL (streaming standbys) or MariaDB (GTID "
                f"replicas), the same for the primary and every replica; the primary is "
                f"{kind}, the replicas {sorted({backend_name(r) for r in replicas})}: "
                "remove BK_READ_REPLICAS or give replicas of the primary's kind"
            )
        self.primary = primary
        self.max_lag_s = max_lag_s
        self.probe_interval_s = probe_interval_s
        self.replay_wait_s = replay_wait_s
        self.positions: Positions = positions_for(kind)
        self.replicas = [Replica(mask_url(r.url), r, self.positions.nothing) for r in replicas]
        self._position: Position = self.positions.nothing
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self.primary_reads = 0
        for replica in self.replicas:
            event.listen(replica.engine, "handle_error", self._on_replica_error)
        self._check_primary()

    # -- the ReadRouting protocol (bookkeeping.engines) ----------------------------

    @property
    def position(self) -> Position:
        return self._position

    def committed(self, connection: Connection) -> None:
        position = self.positions.committed(connection)
        with self._lock:
            self._position = self.positions.merge(self._position, position)

    def connect_for_read(self, since: Position | None) -> Connection:
        needed = self._position if since is None else since
        for replica in self._candidates():
            connection = self._connect(replica, needed)
            if connection is not None:
                return connection
        with self._lock:
            self.primary_reads += 1
        return self.primary.connect()

    def may_retry(self, exc: BaseException) -> bool:
        return bool(getattr(exc, _REPLICA_FAILED, False))

    # -- choosing ------------------------------------------------------------------

    def _candidates(self) -> list[Replica]:
        now = time.monotonic()
        fresh_limit = now - self.probe_interval_s
        ready = [
            r
            for r in self.replicas
            if r.down_until <= now
            and not (r.checked_at >= fresh_limit and not r.usable(self.max_lag_s))
        ]
        if len(ready) > 1:
            turn = next(self._turn) % len(ready)
            ready = ready[turn:] + ready[:turn]
        return ready

    def _connect(self, replica: Replica, needed: Position) -> Connection | None:
        try:
            connection = replica.engine.connect()
        except sa.exc.DBAPIError as exc:
            self._set_aside(replica, f"cannot connect: {_first_line(exc.orig)}")
            return None
        covers = self.positions.covers
        try:
            if time.monotonic() - replica.checked_at >= self.probe_interval_s:
                self._probe(replica, connection)
            if replica.usable(self.max_lag_s) and not covers(replica.replayed, needed):
                replayed = self.positions.catch_up(connection, needed, self.replay_wait_s)
                connection.rollback()  # no snapshot taken before the replay was seen
                with self._lock:
                    replica.replayed = self.positions.merge(replica.replayed, replayed)
        except (sa.exc.DBAPIError, UnsupportedReplica) as exc:
            connection.close()
            self._set_aside(replica, f"probe failed: {_first_line(getattr(exc, 'orig', exc))}")
            return None
        if not replica.usable(self.max_lag_s) or not covers(replica.replayed, needed):
            connection.close()
            return None
        with self._lock:
            replica.reads += 1
        return connection

    def _probe(self, replica: Replica, connection: Connection) -> None:
        probe = self.positions.probe(connection)
        connection.rollback()  # leave no transaction open for the reader
        with self._lock:
            replica.in_recovery = probe.replicating
            replica.replayed = self.positions.merge(replica.replayed, probe.replayed)
            replica.lag_s = probe.lag_s
            replica.checked_at = time.monotonic()
            replica.failures = 0
            replica.problem = probe.problem
            if replica.problem is None and replica.lag_s > self.max_lag_s:
                lag = "an unknown time" if math.isinf(probe.lag_s) else f"{probe.lag_s:.1f} s"
                replica.problem = f"lags {lag} (limit {self.max_lag_s} s)"
        if replica.problem:
            log.warning("read replica %s set aside: %s", replica.url, replica.problem)

    def _set_aside(self, replica: Replica, problem: str) -> None:
        with self._lock:
            replica.failures += 1
            backoff = min(BACKOFF_FIRST_S * 2 ** (replica.failures - 1), BACKOFF_MAX_S)
            replica.down_until = time.monotonic() + backoff
            replica.problem = problem
        # Connections to a server that went away are all dead: drop them now rather
        # than one pre-ping at a time.
        replica.engine.dispose()
        log.warning("read replica %s down (%s); retry in %.1f s", replica.url, problem, backoff)

    def _on_replica_error(self, context: Any) -> None:
        replica = next((r for r in self.replicas if r.engine is context.engine), None)
        if replica is None:
            return
        if context.is_disconnect or self.positions.retryable(context.original_exception):
            if context.sqlalchemy_exception is not None:
                setattr(context.sqlalchemy_exception, _REPLICA_FAILED, True)
            if context.is_disconnect:
                self._set_aside(replica, f"lost: {_first_line(context.original_exception)}")

    def _check_primary(self) -> None:
        try:
            with self.primary.connect() as connection:
                in_recovery = self.positions.is_replica(connection)
                if not in_recovery:
                    self._position = self.positions.current(connection)
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot reach the primary {mask_url(self.primary.url)}: {exc.orig}"
            ) from None
        if in_recovery:
            what = (
                "a standby (in recovery)"
                if self.positions.name == "postgresql"
                else ("a replica (it replicates from another server: SHOW SLAVE STATUS)")
            )
            raise NotAPrimary(
                f"{mask_url(self.primary.url)} is {what}, not a primary: give the "
                "primary's URL as the database URL and replicas in BK_READ_REPLICAS"
            )

    # -- for operators -------------------------------------------------------------

    def status(self) -> list[ReplicaStatus]:
        now = time.monotonic()
        rows = []
        for r in self.replicas:
            if r.down_until > now:
                state = "down"
            elif r.checked_at == float("-inf"):
                state = "unknown"
            elif not r.in_recovery:
                state = "not a standby"
            elif not r.usable(self.max_lag_s):
                state = "lagging"
            else:
                state = "ok"
            rows.append(
                ReplicaStatus(
                    r.url,
                    state,
                    r.replayed,
                    r.lag_s,
                    max(0.0, r.down_until - now),
                    r.reads,
                    r.problem,
                )
            )
        return rows

    def probe_all(self) -> list[ReplicaStatus]:
        """Probe every replica now (``bk replication status``), then report."""
        for replica in self.replicas:
            connection = self._connect(replica, 0)
            if connection is not None:
                connection.close()
        return self.status()

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()


def attach_replicas(
    primary: Engine,
    urls: Sequence[str],
    *,
    max_lag_s: float = DEFAULT_MAX_LAG_S,
    pool_size: int = 10,
    replay_wait_s: float = REPLAY_WAIT_S,
) -> ReadRouter:
    """Route ``primary``'s reads to the standbys at ``urls`` (see the module docstring)."""
    engines = [create_engine(url, pool_size=pool_size) for url in urls]
    router = ReadRouter(primary, engines, max_lag_s=max_lag_s, replay_wait_s=replay_wait_s)
    set_read_routing(primary, router)
    return router


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
