"""The outbox: a removed copy or a catalogue chmod writes its announcement in the change's
own transaction (a refused change announces nothing); the relay publishes many files per
message and marks rows sent only once the broker confirmed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.syncat.errors import BrokerUnavailable
from bookkeeping.syncat.messages import MessageType, WireMessage, parse_envelope
from bookkeeping.syncat.relay import Relay
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.tables import outbox
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.writer.changes import ReplicaKey, UnknownFile
from tests.syncat.conftest import SITE, make_world


def _outbox(engine: Engine) -> list[sa.Row]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox).order_by(outbox.c.id)))


def test_removed_copies_are_announced_with_the_change(
    engine: Engine, tmp_path: Path, bookkeeping_backend: str
) -> None:
    world = make_world(engine, bookkeeping_backend, tmp_path / "keys")
    key = ReplicaKey(SITE, "disk")
    assert world.writer.remove_replicas(world.lfns[:3], key) == 3
    rows = _outbox(engine)
    assert [(r.type, r.se, r.requester) for r in rows] == [("file_deleted", SITE, "root")] * 3
    assert [json.loads(r.item) for r in rows] == [{"path": n, "lfn": n} for n in world.lfns[:3]]
    # a refused change (an unknown file among them) changes nothing and announces nothing
    with pytest.raises(UnknownFile):
        world.writer.remove_replicas([world.lfns[4], "/lhcb/unknown.dst"], key)
    assert len(_outbox(engine)) == 3
    # a status change is not a removal: nothing to announce
    world.writer.change_replicas(world.lfns[5:6], key, status="lost")
    assert len(_outbox(engine)) == 3


def test_catalogue_chmod_of_entries_is_announced(engine: Engine, tmp_path: Path) -> None:
    make_world(engine, "catalogue", tmp_path / "keys")
    session = Catalogue(engine).session("root")
    try:
        session.createdir("/grid")
        session.addentries("/grid", [("a.dst", {}), ("b.dst", {})])
        session.chmod("/grid/*", "r--", "r--")
        session.chmod("/grid", "rwx")
    finally:
        session.close()
    rows = _outbox(engine)
    assert [(r.type, r.se, json.loads(r.item)) for r in rows] == [
        ("permissions_changed", "*", {"path": "/grid/a.dst", "mode": 0o444}),
        ("permissions_changed", "*", {"path": "/grid/b.dst", "mode": 0o444}),
        ("permissions_changed", "*", {"path": "/grid", "mode": 0o600}),
    ]


def test_relay_sends_many_files_per_message_after_confirmation(
    engine: Engine, tmp_path: Path, transport: Transport, routing: Routing
) -> None:
    world = make_world(engine, "catalogue", tmp_path / "keys", files=25)
    world.writer.remove_replicas(world.lfns, ReplicaKey(SITE, "disk"))
    relay = Relay(engine, transport, world.catalogue_key, routing, files_per_message=10)
    assert relay.backlog() == 25
    assert relay.run_once() == 25
    assert relay.backlog() == 0 and relay.run_once() == 0
    deliveries = []
    for _ in range(20):
        deliveries += transport.receive(routing.se(SITE), 10, 0.5)
        if len(deliveries) >= 3:
            break
    envelopes = [parse_envelope(WireMessage.from_bytes(d.body).envelope) for d in deliveries]
    assert sorted(len(e.files) for e in envelopes) == [5, 10, 10]
    assert {e.type for e in envelopes} == {MessageType.FILE_DELETED}
    assert sorted(f["lfn"] for e in envelopes for f in e.files) == sorted(world.lfns)
    rows = _outbox(engine)
    assert {r.message_id for r in rows} == {e.id for e in envelopes}
    for delivery in deliveries:
        transport.ack(delivery)


def test_nothing_is_marked_sent_when_the_broker_does_not_confirm(
    engine: Engine, tmp_path: Path, routing: Routing
) -> None:
    from bookkeeping.syncat.transport.amqp import AmqpTransport

    world = make_world(engine, "catalogue", tmp_path / "keys", files=3)
    world.writer.remove_replicas(world.lfns, ReplicaKey(SITE, "disk"))
    dead = AmqpTransport("amqp://guest:guest@127.0.0.1:1//", connect_timeout=1)
    relay = Relay(engine, dead, world.catalogue_key, routing)
    with pytest.raises(BrokerUnavailable):
        relay.run_once()
    assert relay.backlog() == 3
    assert all(r.sent is None and r.message_id is None for r in _outbox(engine))
