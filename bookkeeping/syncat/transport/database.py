"""The embedded transport: a queue table (``syncat_queue``) consumers claim rows of.

A claimed row is leased for ``lease`` seconds; acknowledging deletes it, a consumer that dies
leaves it to be claimed again when the lease ends. PostgreSQL and MariaDB claim with
``FOR UPDATE SKIP LOCKED`` so several consumers share a queue; SQLite has one writer at a
time (``BEGIN IMMEDIATE``) anyway. Publishing is committing the rows: that is the confirm.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from bookkeeping.engines import write_transaction
from bookkeeping.syncat.errors import BrokerUnavailable
from bookkeeping.syncat.tables import queue as queue_table
from bookkeeping.syncat.transport.base import Delivery

POLL_MIN = 0.02
POLL_MAX = 0.25


class DatabaseTransport:
    name = "database"

    def __init__(self, engine: Engine, *, lease: float = 30.0) -> None:
        self.engine = engine
        self.lease = lease

    def publish(self, queue: str, bodies: Sequence[bytes]) -> None:
        if not bodies:
            return
        try:
            with write_transaction(self.engine) as connection:
                self.publish_in(connection, queue, bodies)
        except OperationalError as exc:
            raise BrokerUnavailable(f"cannot queue messages in the database: {exc.orig}") from None

    def publish_in(self, connection: Connection, queue: str, bodies: Sequence[bytes]) -> None:
        """Queue the messages in the caller's transaction (the relay's: moving rows from
        the outbox to the queue is then one transaction, exactly once)."""
        now = time.time()
        rows = [{"queue": queue, "body": body, "created": now} for body in bodies]
        connection.execute(queue_table.insert(), rows)

    def receive(self, queue: str, limit: int, timeout: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        pause = POLL_MIN
        while True:
            found = self._claim(queue, limit)
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, POLL_MAX)

    def _claim(self, queue: str, limit: int) -> list[Delivery]:
        q = queue_table.c
        now = time.time()
        query = (
            sa.select(q.id, q.body)
            .where(q.queue == queue, sa.or_(q.leased_until.is_(None), q.leased_until < now))
            .order_by(q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with write_transaction(self.engine) as connection:
            rows = connection.execute(query).all()
            if rows:
                connection.execute(
                    queue_table.update()
                    .where(q.id.in_([row.id for row in rows]))
                    .values(leased_until=now + self.lease)
                )
        return [Delivery(bytes(row.body), row.id) for row in rows]

    def ack(self, delivery: Delivery) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(queue_table.delete().where(queue_table.c.id == delivery.tag))

    def requeue(self, delivery: Delivery) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                queue_table.update()
                .where(queue_table.c.id == delivery.tag)
                .values(leased_until=None)
            )

    def backlog(self, queue: str) -> int:
        q = queue_table.c
        with self.engine.connect() as connection:
            return int(connection.scalar(sa.select(sa.func.count()).where(q.queue == queue)) or 0)

    def delete_queue(self, queue: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(queue_table.delete().where(queue_table.c.queue == queue))

    def close(self) -> None:
        pass
