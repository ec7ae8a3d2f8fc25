"""The relay: publishes outbox rows, many files per message, and marks them sent only once
the broker confirmed the message.

Rows are claimed in id order (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB, so
several relays share the work), grouped by (type, SE, requester), cut into messages of at
most ``files_per_message`` files, signed, published with confirms, then marked sent in the
same transaction that claimed them. A relay that dies after the broker confirmed but before
the commit publishes those rows again: the message id is derived from the rows' ids, so the
receiver refuses the second copy as a replay. A pass the broker failed (no confirm) rolls
back, and the next pass sends the very messages it had built first, under the same ids.
With the database transport the rows move from the outbox to the queue table in one
transaction.

Housekeeping, at most once a minute: sent rows older than the retention
(``BK_SYNCAT_OUTBOX_RETENTION``, 7 days) are deleted, a bounded batch at a time, and the
backlog (rows not yet confirmed, and the age of the oldest) is logged: a warning when the
oldest has waited more than ``STALE`` seconds (a broker down, a relay stuck).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.chunking import chunked
from bookkeeping.engines import write_transaction
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.outbox import ANY_SE
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.tables import outbox
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.syncat.transport.database import DatabaseTransport

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY = 60.0  # seconds between prunes and backlog reports
PRUNE_BATCH = 5_000  # rows per delete statement
PRUNE_BATCHES = 20  # per housekeeping round: a large first prune is spread over rounds
STALE = 300.0  # an unsent row older than this is worth a warning
_NAMESPACE = uuid.UUID("5b7f1f0e-3c55-4d8a-9a0e-6f1c2b7d9e10")


@dataclass(frozen=True)
class _Outgoing:
    queue: str
    body: bytes
    id: str
    ids: list[int]  # outbox rows


class Relay:
    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        signer: Signer,
        routing: Routing,
        *,
        ses: Sequence[str] = (),
        files_per_message: int = 1000,
        rows_per_pass: int = 20_000,
        retention: float | None = 7 * 24 * 3600.0,
    ) -> None:
        """``ses``: the storage elements a message for every SE (``*``) goes to."""
        self.engine = engine
        self.transport = transport
        self.signer = signer
        self.routing = routing
        self.ses = tuple(ses)
        self.files_per_message = files_per_message
        self.rows_per_pass = rows_per_pass
        self._unconfirmed: list[_Outgoing] = []  # built by a pass the broker failed
        self.retention = retention  # None: sent rows are kept
        self._housekept = -HOUSEKEEPING_EVERY  # monotonic time of the last round

    def run_once(self) -> int:
        """Publish one pass of unsent rows; returns how many rows were sent."""
        if time.monotonic() - self._housekept >= HOUSEKEEPING_EVERY:
            self._housekept = time.monotonic()
            self.housekeeping()
        return self._pass()

    def housekeeping(self) -> tuple[int, Backlog]:
        """Prune sent rows past the retention, log the backlog; (rows pruned, backlog)."""
        pruned = 0 if self.retention is None else prune_sent(self.engine, self.retention)
        backlog = outbox_backlog(self.engine)
        if backlog.oldest_age is not None and backlog.oldest_age > STALE:
            log.warning(
                "outbox backlog: %d files unsent, the oldest for %.0f s", *backlog.figures()
            )
        elif backlog.files or pruned:
            log.info("outbox backlog: %d files unsent, the oldest for %.0f s", *backlog.figures())
        if pruned:
            log.info("pruned %d sent outbox rows older than %.0f s", pruned, self.retention)
        return pruned, backlog

    def _pass(self) -> int:
        o = outbox.c
        claim = (
            sa.select(o.id, o.type, o.se, o.requester, o.item)
            .where(o.sent.is_(None))
            .order_by(o.id)
            .limit(self.rows_per_pass)
            .with_for_update(skip_locked=True)
        )
        with write_transaction(self.engine) as connection:
            rows = connection.execute(claim).all()
            if not rows:
                return 0
            claimed = {row.id for row in rows}
            # messages a failed pass built are sent again as they were (same ids), so a copy
            # the broker kept without confirming it is refused by the receiver as a replay
            retried = [m for m in self._unconfirmed if claimed.issuperset(m.ids)]
            covered = {row_id for m in retried for row_id in m.ids}
            fresh = [
                self._outgoing(q, e, ids)
                for q, e, ids in self._messages([row for row in rows if row.id not in covered])
            ]
            self._unconfirmed = retried + fresh
            for message in self._unconfirmed:
                if isinstance(self.transport, DatabaseTransport):
                    self.transport.publish_in(connection, message.queue, [message.body])
                else:
                    self.transport.publish(message.queue, [message.body])
            now = time.time()
            for message in self._unconfirmed:
                for chunk in chunked(message.ids, 500):
                    connection.execute(
                        outbox.update()
                        .where(o.id.in_(chunk))
                        .values(sent=now, message_id=message.id)
                    )
        sent, self._unconfirmed = len(self._unconfirmed), []
        log.info("relayed %d files in %d messages", len(rows), sent)
        return len(rows)

    def _outgoing(self, queue: str, envelope: Envelope, ids: list[int]) -> _Outgoing:
        return _Outgoing(queue, self.signer.sign(envelope).to_bytes(), envelope.id, ids)

    def _messages(
        self, rows: Sequence[sa.Row[Any, Any, Any, Any, Any]]
    ) -> list[tuple[str, Envelope, list[int]]]:
        groups: dict[tuple[str, str, str], list[sa.Row[Any, Any, Any, Any, Any]]] = defaultdict(
            list
        )
        for row in rows:
            targets = self.ses if row.se == ANY_SE else (row.se,)
            for se in targets:
                groups[(row.type, se, row.requester)].append(row)
        messages = []
        for (kind, se, requester), members in groups.items():
            for chunk in chunked(members, self.files_per_message):
                ids = [row.id for row in chunk]
                message_id = uuid.uuid5(_NAMESPACE, f"{se}:{','.join(map(str, ids))}").hex
                envelope = Envelope(
                    type=MessageType(kind),
                    sender=self.signer.endpoint,
                    requester=requester,
                    se=se,
                    files=tuple(json.loads(row.item) for row in chunk),
                    id=message_id,
                )
                messages.append((self.routing.queue_for(envelope.type, se), envelope, ids))
        # a "*" row with no SE to go to is marked sent with the others: nobody to tell
        return messages

    def backlog(self) -> int:
        return outbox_backlog(self.engine).files


@dataclass(frozen=True)
class Backlog:
    files: int  # outbox rows not yet confirmed by the broker
    oldest_age: float | None  # seconds the oldest of them has waited; None when none

    def figures(self) -> tuple[int, float]:
        return self.files, self.oldest_age or 0.0


def outbox_backlog(engine: Engine, now: float | None = None) -> Backlog:
    o = outbox.c
    query = sa.select(sa.func.count(), sa.func.min(o.created)).where(o.sent.is_(None))
    with engine.connect() as connection:
        files, oldest = connection.execute(query).one()
    now = time.time() if now is None else now
    return Backlog(int(files or 0), None if oldest is None else max(0.0, now - float(oldest)))


def prune_sent(
    engine: Engine, retention: float, now: float | None = None, batches: int = PRUNE_BATCHES
) -> int:
    """Delete outbox rows confirmed more than ``retention`` seconds ago, at most ``batches``
    statements of ``PRUNE_BATCH`` rows (short transactions beside the relay's); how many."""
    cutoff = (time.time() if now is None else now) - retention
    o = outbox.c
    pruned = 0
    for _ in range(batches):
        with write_transaction(engine) as connection:
            ids = list(
                connection.scalars(
                    sa.select(o.id).where(o.sent < cutoff).order_by(o.id).limit(PRUNE_BATCH)
                )
            )
            if ids:
                connection.execute(outbox.delete().where(o.id.in_(ids)))
        pruned += len(ids)
        if len(ids) < PRUNE_BATCH:
            break
    return pruned
