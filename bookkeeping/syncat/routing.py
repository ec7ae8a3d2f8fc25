"""Queue names: one durable queue per receiving endpoint.

``<prefix>syncat.catalogue`` takes the upstream messages (SE -> catalogue);
``<prefix>syncat.se.<NAME>`` the downstream messages of storage element NAME. The prefix
lets several installations (or tests) share one broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.transport.base import Transport


@dataclass(frozen=True)
class Routing:
    prefix: str = ""

    @property
    def catalogue(self) -> str:
        return f"{self.prefix}syncat.catalogue"

    def se(self, name: str) -> str:
        return f"{self.prefix}syncat.se.{name}"

    def queue_for(self, kind: MessageType, se: str) -> str:
        return self.catalogue if kind.upstream else self.se(se)


def send(transport: Transport, routing: Routing, signer: Signer, envelope: Envelope) -> str:
    """Sign and publish one message straight away (confirmed); returns its queue."""
    queue = routing.queue_for(envelope.type, envelope.se)
    transport.publish(queue, [signer.sign(envelope).to_bytes()])
    return queue
