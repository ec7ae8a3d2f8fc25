"""The consumer: takes messages from an endpoint's queue, checks them, hands them to the
plug-ins bound to their type, records the outcome and acknowledges.

For each message, in this order, the first failure refuses it (counted and logged with the
reason, never applied; the batch goes on):

1. the bytes are a message (UTF-8 JSON with envelope, key and signature);
2. the signature verifies with the key it names;
3. the key is on this endpoint's whitelist, trusted as the envelope's sender;
4. the envelope is well formed, of a known type and a major version spoken here;
5. it has not expired (nor was issued in the future, beyond the clock skew allowed);
6. its id has not been handled here before (replays and duplicates);
7. a plug-in takes its type, and the requester has the right (``authorize``).

Then the plug-ins apply it and the outcome is recorded (which is what refuses the id next
time); only then is the message acknowledged. A plug-in whose effect is in this database
(``RecordingPlugin``: the catalogue consumer) has the record written in its effect's own
transaction: both commit or neither, and a consumer killed before the acknowledgement gets
the message again and refuses it as handled. A plug-in acting elsewhere (the storage
consumer, on an SE's files) commits its effect first and the record after: killed in
between, it applies the message again (idempotent: no change) and records it once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bookkeeping.engines import write_transaction
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable
from bookkeeping.storage.errors import StorageError, StorageUnavailable
from bookkeeping.syncat.errors import (
    BrokerUnavailable,
    ExpiredMessage,
    NotForThisEndpoint,
    ReplayedMessage,
    SyncatError,
)
from bookkeeping.syncat.messages import Envelope, WireMessage, parse_envelope
from bookkeeping.syncat.plugins import Plugin, RecordingPlugin
from bookkeeping.syncat.signing import verify
from bookkeeping.syncat.sql import insert_missing
from bookkeeping.syncat.tables import received
from bookkeeping.syncat.transport.base import Delivery, Transport
from bookkeeping.syncat.trust import Whitelist

log = logging.getLogger(__name__)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    applied: bool
    reason: str | None = None  # why it was refused
    files: int = 0


class Consumer:
    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        queue: str,
        endpoint: str,
        plugins: Sequence[Plugin],
        *,
        serves: Sequence[str] | None = None,
    ) -> None:
        """``endpoint``: this receiver's name (its record of messages seen is its own);
        ``serves``: the storage elements it acts for (None: any)."""
        self.engine = engine
        self.transport = transport
        self.queue = queue
        self.endpoint = endpoint
        self.plugins = list(plugins)
        self.serves = None if serves is None else frozenset(serves)
        self.whitelist = Whitelist(engine)

    def run_once(self, limit: int = 100, timeout: float = 1.0) -> int:
        """Handle what arrives within ``timeout`` (at most ``limit``); how many handled."""
        deliveries = self.transport.receive(self.queue, limit, timeout)
        for delivery in deliveries:
            self.handle(delivery)
        return len(deliveries)

    def handle(self, delivery: Delivery) -> Outcome:
        try:
            outcome = self._handle(delivery.body)
        except BaseException as exc:
            # a passing fault (database or SE unreachable) or a bug: give the message back
            # untouched, to be applied when it comes again
            log.warning("cannot apply a message now (%s); it will come again", exc)
            try:
                self.transport.requeue(delivery)
            except BrokerUnavailable:
                pass  # the broker delivers it again anyway: it was never acknowledged
            raise
        self.transport.ack(delivery)
        return outcome

    def _handle(self, body: bytes) -> Outcome:
        envelope: Envelope | None = None
        try:
            wire = WireMessage.from_bytes(body)
            verify(wire)
            envelope = parse_envelope(wire.envelope)
            self.whitelist.check(wire.key, envelope.sender)
            self._check_time(envelope)
            if self.serves is not None and envelope.se not in self.serves:
                raise NotForThisEndpoint(f"{self.endpoint} does not serve SE {envelope.se!r}")
            if self._seen(envelope.id):
                raise ReplayedMessage(f"message {envelope.id} was handled here already")
            plugins = [plugin for plugin in self.plugins if envelope.type in plugin.types]
            if not plugins:
                raise NotForThisEndpoint(f"no plug-in here takes {envelope.type} messages")
            for plugin in plugins:
                plugin.authorize(envelope)
            recorded = len(plugins) == 1 and isinstance(plugins[0], RecordingPlugin)
            if recorded:  # the effect and the record of the message commit together
                files = cast(RecordingPlugin, plugins[0]).apply_recorded(
                    envelope,
                    lambda connection, changed: self._record_applied(connection, envelope, changed),
                )
            else:
                files = sum(plugin.apply(envelope) for plugin in plugins)
        except SyncatError as exc:
            return self._refused(envelope, getattr(exc, "reason", "failed"), str(exc))
        except StorageError as exc:
            if isinstance(exc, StorageUnavailable):
                raise
            return self._refused(envelope, "storage-error", str(exc))
        except BookkeepingError as exc:
            if isinstance(exc, DatabaseUnavailable):
                raise
            # the bookkeeping refused the change (e.g. a malformed LFN): it would again
            return self._refused(envelope, "refused-by-bookkeeping", str(exc))
        if not recorded:
            self._record(envelope, "applied", None, None, files)
        log.info(
            "applied %s %s from %s for %s: %d of %d files changed",
            envelope.type,
            envelope.id,
            envelope.sender,
            envelope.requester,
            files,
            len(envelope.files),
        )
        return Outcome(True, None, files)

    def _check_time(self, envelope: Envelope) -> None:
        now = datetime.now(UTC)
        if envelope.expires is not None and envelope.expires < now:
            raise ExpiredMessage(f"message {envelope.id} expired at {envelope.expires:%c}")
        if envelope.issued > now + CLOCK_SKEW:
            raise ExpiredMessage(f"message {envelope.id} is issued in the future")

    def _seen(self, message_id: str) -> bool:
        r = received.c
        query = sa.select(r.id).where(r.endpoint == self.endpoint, r.message_id == message_id)
        with self.engine.connect() as connection:
            return connection.scalar(query) is not None

    def _refused(self, envelope: Envelope | None, reason: str, detail: str) -> Outcome:
        log.warning(
            "refused a message%s: %s: %s",
            f" {envelope.id} from {envelope.sender}" if envelope else "",
            reason,
            detail,
        )
        # a replay keeps no id: the first record of that id stays the one that counts
        keep_id = envelope is not None and reason != "replayed"
        self._record(envelope, "refused", reason, detail, 0, keep_id=keep_id)
        return Outcome(False, reason)

    def _record_applied(self, connection: Connection, envelope: Envelope, files: int) -> None:
        """The message recorded as applied, on the connection of its effect: a concurrent
        delivery of the same message that recorded it first wins, and this effect rolls
        back (refused as a replay)."""
        row = self._row(envelope, "applied", None, None, files, keep_id=True)
        if not insert_missing(connection, received, [row]):
            raise ReplayedMessage(f"message {envelope.id} was handled here already")

    def _record(
        self,
        envelope: Envelope | None,
        outcome: str,
        reason: str | None,
        detail: str | None,
        files: int,
        *,
        keep_id: bool = True,
    ) -> None:
        row = self._row(envelope, outcome, reason, detail, files, keep_id=keep_id)
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(received.insert().values(**row))
        except IntegrityError:
            # recorded already by an earlier delivery of the same message (redelivered
            # after a crash between the record and the acknowledgement): once is enough
            pass

    def _row(
        self,
        envelope: Envelope | None,
        outcome: str,
        reason: str | None,
        detail: str | None,
        files: int,
        *,
        keep_id: bool,
    ) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "message_id": envelope.id if envelope and keep_id else None,
            "type": str(envelope.type) if envelope else None,
            "sender": envelope.sender[:255] if envelope else None,
            "requester": envelope.requester[:255] if envelope else None,
            "outcome": outcome,
            "reason": reason,
            "detail": detail[:2000] if detail else None,
            "files": files,
            "expires": envelope.expires.timestamp() if envelope and envelope.expires else None,
            "received": time.time(),
        }


def forget_expired(engine: Engine, endpoint: str, before: float | None = None) -> int:
    """Drop the records of messages expired long enough ago that no copy can be valid."""
    cutoff = (time.time() if before is None else before) - CLOCK_SKEW.total_seconds()
    with write_transaction(engine) as connection:
        return connection.execute(
            received.delete().where(received.c.endpoint == endpoint, received.c.expires < cutoff)
        ).rowcount
