"""What every transport offers: confirmed publishing and at-least-once delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """A message handed to a consumer, to acknowledge once its effect committed."""

    body: bytes
    tag: object  # the transport's handle for ack/requeue


class Transport(Protocol):
    name: str

    def publish(self, queue: str, bodies: Sequence[bytes]) -> None:
        """Returns once the broker holds every body durably (publisher confirms, or the
        queue rows committed); raises ``BrokerUnavailable`` otherwise (some may have been
        taken: the receiver refuses duplicates by id)."""
        ...

    def receive(self, queue: str, limit: int, timeout: float) -> list[Delivery]:
        """Up to ``limit`` messages, waiting at most ``timeout`` seconds for the first."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The message's effect committed: the broker forgets it."""
        ...

    def requeue(self, delivery: Delivery) -> None:
        """Give the message back, to be delivered again."""
        ...

    def backlog(self, queue: str) -> int:
        """Messages waiting in the queue (not counting those handed out)."""
        ...

    def delete_queue(self, queue: str) -> None: ...

    def close(self) -> None: ...
