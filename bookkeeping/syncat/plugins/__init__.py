"""Consumer plug-ins, loaded by name from the entry-point group ``bookkeeping.syncat.consumers``
(as the seed's Python plug-in bound a notification to a function).

A plug-in is a class built with a ``PluginContext``; it names the message types it handles
(``types``), checks the requester's right before anything is done (``authorize``) and applies
a message (``apply``), idempotently: a message applied twice changes nothing the second time.
``apply`` returns only once its effect committed; the consumer acknowledges after that.

A plug-in whose effect is in the consumer's own database may also offer ``apply_recorded``:
it calls ``record(connection, files)`` inside the transaction of its effect, and the
consumer writes its record of the message there, so the effect and the record commit
together (a second delivery then finds the message recorded and changes nothing). A plug-in
acting elsewhere (on an SE's files) cannot: its effect is done, then recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy.engine import Connection, Engine

from bookkeeping.syncat.errors import SyncatError
from bookkeeping.syncat.messages import Envelope, MessageType

if TYPE_CHECKING:
    from bookkeeping.storage.element import StorageElement

GROUP = "bookkeeping.syncat.consumers"
Record = Callable[[Connection, int], None]  # (the effect's connection, files changed)


@dataclass
class PluginContext:
    engine: Engine
    backend: str = "catalogue"  # the bookkeeping implementation whose copies change
    open_element: Callable[[str], StorageElement] | None = None  # SE by name
    options: dict[str, str] = field(default_factory=dict)


class Plugin(Protocol):
    types: frozenset[MessageType]

    def authorize(self, envelope: Envelope) -> None:
        """``NotAllowed`` unless the requester may have this done here."""
        ...

    def apply(self, envelope: Envelope) -> int:
        """Do what the message says (committed when it returns); how many files changed."""
        ...


@runtime_checkable
class RecordingPlugin(Plugin, Protocol):
    def apply_recorded(self, envelope: Envelope, record: Record) -> int:
        """``apply``, calling ``record`` in the effect's transaction before it commits."""
        ...


def available() -> list[str]:
    return sorted(point.name for point in entry_points(group=GROUP))


def load(name: str, context: PluginContext) -> Plugin:
    points = {point.name: point for point in entry_points(group=GROUP)}
    if name not in points:
        raise SyncatError(
            f"no syncat consumer plug-in {name!r}; installed: {', '.join(sorted(points))}"
        )
    factory = points[name].load()
    plugin: Plugin = factory(context)
    return plugin
