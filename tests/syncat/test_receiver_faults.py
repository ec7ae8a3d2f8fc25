"""At the receiver: a passing fault while applying leaves the message unacknowledged and it
is applied when it comes again (once); a requester without the right on the SE side is
refused and nothing changes on the SE."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.errors import DatabaseUnavailable
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.consumer import Consumer
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.plugins import PluginContext, load
from bookkeeping.syncat.plugins.null import NullConsumer
from bookkeeping.syncat.routing import Routing, send
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.transport.database import DatabaseTransport
from bookkeeping.syncat.trust import trust
from tests.syncat.conftest import add_user


class _FlakyOnce(NullConsumer):
    """A plug-in whose first apply meets an unreachable database."""

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        self.calls = 0

    def apply(self, envelope: Envelope) -> int:
        self.calls += 1
        if self.calls == 1:
            raise DatabaseUnavailable("lost the database connection (test)")
        return len(envelope.files)


def test_a_passing_fault_leaves_the_message_to_come_again(engine: Engine) -> None:
    add_user(engine, "root")
    signer = Signer.generate("se:S1")
    trust(engine, signer.endpoint, signer.public)
    transport = DatabaseTransport(engine, lease=0.0)  # given back at once when not acked
    routing = Routing(prefix="flaky.")
    send(
        transport,
        routing,
        signer,
        Envelope(MessageType.FILE_LOST, "se:S1", "root", "S1", ({"path": "/a"},)),
    )
    plugin = _FlakyOnce(PluginContext(engine))
    consumer = Consumer(engine, transport, routing.catalogue, "catalogue", [plugin])
    with pytest.raises(DatabaseUnavailable):
        consumer.run_once(timeout=1.0)
    assert (counts(engine, "catalogue").applied, transport.backlog(routing.catalogue)) == (0, 1)
    assert consumer.run_once(timeout=1.0) == 1
    assert (counts(engine, "catalogue").applied, transport.backlog(routing.catalogue)) == (1, 0)
    assert plugin.calls == 2


def test_the_se_refuses_a_requester_without_the_right(engine: Engine, tmp_path: Path) -> None:
    add_user(engine, "root")
    add_user(engine, "mallory")
    folder = tmp_path / "disk"
    folder.mkdir()
    registry = StorageRegistry(engine)
    registry.add("S1", f"file://{folder}", "offline", site="S1")
    element = registry.open("S1")
    element.put(io.BytesIO(b"x"), "/lhcb/a.dst")
    catalogue = Signer.generate("catalogue")
    trust(engine, catalogue.endpoint, catalogue.public)
    transport = DatabaseTransport(engine)
    routing = Routing(prefix="rights.")
    for kind, item in (
        (MessageType.FILE_DELETED, {"path": "/lhcb/a.dst"}),
        (MessageType.PERMISSIONS_CHANGED, {"path": "/lhcb/a.dst", "mode": 0o400}),
    ):
        send(transport, routing, catalogue, Envelope(kind, "catalogue", "mallory", "S1", (item,)))
    plugin = load("storage", PluginContext(engine, open_element=registry.open))
    consumer = Consumer(engine, transport, routing.se("S1"), "se:S1", [plugin], serves=["S1"])
    assert consumer.run_once(timeout=1.0) == 2
    assert counts(engine, "se:S1").refused == {"not-allowed": 2}
    assert (folder / "lhcb" / "a.dst").stat().st_mode & 0o777 != 0o400
    assert element.exists("/lhcb/a.dst")
