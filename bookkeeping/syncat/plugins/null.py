"""The null plug-in: takes every message type and does nothing (a receiver that only counts,
or a type no real plug-in handles yet)."""

from __future__ import annotations

from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.plugins import PluginContext


class NullConsumer:
    types = frozenset(MessageType)

    def __init__(self, context: PluginContext) -> None:
        self.context = context

    def authorize(self, envelope: Envelope) -> None:
        pass

    def apply(self, envelope: Envelope) -> int:
        return 0
