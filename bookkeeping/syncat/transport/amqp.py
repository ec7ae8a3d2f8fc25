"""RabbitMQ through kombu (AMQP 0-9-1 over py-amqp).

Durable queues on the default exchange (a queue per endpoint), persistent messages
(``delivery_mode=2``) and publisher confirms (py-amqp's ``confirm_publish``: ``publish``
returns once the broker acknowledged the message, and raises if it refused it). Consumers
take messages with manual acknowledgement and a prefetch window; a message is acknowledged
only after its effect committed, so a consumer that dies leaves it to the broker to
deliver again.

A lost connection is not retried here: the call raises ``BrokerUnavailable`` and the next
call connects anew (the relay and the consumer loop wait and go on). Deliveries taken on
the old connection are forgotten: the broker delivers them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import kombu  # untyped: its objects are Any here
from kombu.exceptions import OperationalError as KombuOperationalError

from bookkeeping.config import mask_url
from bookkeeping.syncat.errors import BrokerUnavailable
from bookkeeping.syncat.transport.base import Delivery

PREFETCH = 200
_kombu: Any = kombu


class AmqpTransport:
    name = "rabbitmq"

    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._connection: Any = None
        self._channel: Any = None
        self._consumers: dict[str, Any] = {}
        self._buffer: dict[str, list[Any]] = {}
        self._declared: set[str] = set()
        self._generation = 0  # bumped on reconnect: older deliveries cannot be acked

    # --- connection -------------------------------------------------------------------

    def _errors(self) -> tuple[type[BaseException], ...]:
        connection = self._connection or _kombu.Connection(self.url)
        return (
            *connection.connection_errors,
            *connection.channel_errors,
            KombuOperationalError,
            OSError,
        )

    def _connect(self) -> Any:
        if self._channel is not None:
            return self._channel
        connection = _kombu.Connection(
            self.url,
            connect_timeout=self.connect_timeout,
            transport_options={"confirm_publish": True},
        )
        try:
            connection.connect()
            channel = connection.channel()
        except self._errors() as exc:
            connection.release()
            raise BrokerUnavailable(
                f"cannot reach the broker at {mask_url(self.url)}: {exc}"
            ) from None
        self._connection, self._channel = connection, channel
        self._generation += 1
        return channel

    def _drop(self) -> None:
        """Forget the connection after an error (its deliveries come back from the broker)."""
        connection = self._connection
        self._connection = self._channel = None
        self._consumers.clear()
        self._buffer.clear()
        self._declared.clear()
        if connection is not None:
            try:
                connection.release()
            except self._errors():
                pass  # it is broken already: nothing more to release

    def _queue(self, name: str) -> Any:
        return _kombu.Queue(name, routing_key=name, durable=True, auto_delete=False)

    def _declare(self, channel: Any, name: str) -> None:
        if name not in self._declared:
            self._queue(name)(channel).declare()
            self._declared.add(name)

    # --- publishing -------------------------------------------------------------------

    def publish(self, queue: str, bodies: Sequence[bytes]) -> None:
        if not bodies:
            return
        try:
            channel = self._connect()
            self._declare(channel, queue)
            producer = _kombu.Producer(channel, exchange=_kombu.Exchange(""), routing_key=queue)
            for body in bodies:  # each waits for the broker's confirm
                producer.publish(
                    body,
                    routing_key=queue,
                    delivery_mode=2,
                    content_type="application/json",
                    content_encoding="binary",
                )
        except BrokerUnavailable:
            raise
        except self._errors() as exc:
            self._drop()
            raise BrokerUnavailable(f"the broker did not confirm a message: {exc}") from None

    # --- consuming --------------------------------------------------------------------

    def _consumer(self, channel: Any, queue: str, limit: int) -> None:
        if queue in self._consumers:
            return
        self._declare(channel, queue)
        buffer = self._buffer.setdefault(queue, [])
        consumer = _kombu.Consumer(
            channel,
            queues=[self._queue(queue)],
            on_message=buffer.append,
            no_ack=False,
            prefetch_count=max(limit, 1),
        )
        consumer.consume()
        self._consumers[queue] = consumer

    def receive(self, queue: str, limit: int, timeout: float) -> list[Delivery]:
        try:
            channel = self._connect()
            self._consumer(channel, queue, min(limit, PREFETCH))
            buffer = self._buffer[queue]
            if not buffer:
                try:
                    self._connection.drain_events(timeout=timeout)
                except TimeoutError:
                    pass
            # take whatever else has arrived already, without waiting
            while len(buffer) < limit:
                try:
                    self._connection.drain_events(timeout=0)
                except TimeoutError:
                    break
        except BrokerUnavailable:
            raise
        except self._errors() as exc:
            self._drop()
            raise BrokerUnavailable(f"lost the broker while receiving: {exc}") from None
        taken, buffer[:] = buffer[:limit], buffer[limit:]
        return [Delivery(bytes(m.body), (self._generation, m)) for m in taken]

    def _settle(self, delivery: Delivery, *, ack: bool) -> None:
        generation: int
        message: Any
        generation, message = delivery.tag  # type: ignore[misc]
        if generation != self._generation or self._channel is None:
            return  # taken on a lost connection: the broker delivers it again
        try:
            if ack:
                message.ack()
            else:
                message.requeue()
        except self._errors() as exc:
            self._drop()
            raise BrokerUnavailable(f"lost the broker while acknowledging: {exc}") from None

    def ack(self, delivery: Delivery) -> None:
        self._settle(delivery, ack=True)

    def requeue(self, delivery: Delivery) -> None:
        self._settle(delivery, ack=False)

    # --- administration ---------------------------------------------------------------

    def backlog(self, queue: str) -> int:
        try:
            channel = self._connect()
            _, count, _ = self._queue(queue)(channel).queue_declare(passive=False)
            self._declared.add(queue)
            return int(count)
        except self._errors() as exc:
            self._drop()
            raise BrokerUnavailable(f"cannot ask the broker about {queue}: {exc}") from None

    def delete_queue(self, queue: str) -> None:
        try:
            channel = self._connect()
            consumer = self._consumers.pop(queue, None)
            if consumer is not None:
                consumer.cancel()
            self._queue(queue)(channel).delete()
            self._declared.discard(queue)
        except self._errors() as exc:
            self._drop()
            raise BrokerUnavailable(f"cannot delete the queue {queue}: {exc}") from None

    def close(self) -> None:
        self._drop()
