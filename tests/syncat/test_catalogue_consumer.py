"""Upstream messages applied to the catalogue, on both transports: lost and corrupted copies
marked, dark data quarantined, and every kind of bad input refused, counted and logged while
the consumer goes on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.syncat.consumer import Consumer
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.plugins import PluginContext, load
from bookkeeping.syncat.routing import Routing, send
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import quarantine, space, suspicious
from bookkeeping.syncat.transport.base import Transport
from tests.syncat.conftest import SITE, World, add_user, make_world


def _consumer(world: World, transport: Transport, routing: Routing) -> Consumer:
    plugin = load("catalogue", PluginContext(world.engine, backend="catalogue"))
    return Consumer(world.engine, transport, routing.catalogue, "catalogue", [plugin])


def _drain(consumer: Consumer, expected: int) -> None:
    """Handle messages until ``expected`` were handled (bounded: 60 receive rounds)."""
    handled = 0
    for _ in range(60):
        handled += consumer.run_once(limit=50, timeout=0.5)
        if handled >= expected:
            break
    assert handled == expected


def _upstream(world: World, kind: MessageType, files: list[dict], **fields: object) -> Envelope:
    values: dict[str, object] = {
        "type": kind,
        "sender": world.se_key.endpoint,
        "requester": "root",
        "se": SITE,
        "files": tuple(files),
    }
    values.update(fields)
    return Envelope(**values)  # type: ignore[arg-type]


def _statuses(world: World, lfns: list[str]) -> dict[str, str]:
    found = world.reader.files_metadata(lfns).found
    copies = world.reader.replicas_of([record.file_id for record in found])
    return {record.lfn: copies[record.file_id][0].status for record in found}


def _rows(engine: Engine, table: sa.Table) -> list[sa.Row]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(table)))


def test_lost_corrupted_appeared_and_space(
    world: World, transport: Transport, routing: Routing
) -> None:
    lost, bad = world.lfns[:3], world.lfns[3]
    envelopes = [
        _upstream(world, MessageType.FILE_LOST, [{"path": name} for name in lost]),
        _upstream(
            world,
            MessageType.FILE_CORRUPTED,
            [{"path": bad, "adler32": "deadbeef", "expected": "0000abcd"}],
        ),
        _upstream(
            world,
            MessageType.FILE_APPEARED,
            [{"path": "/lhcb/dark/x.dst", "size": 7}, {"path": world.lfns[5]}],
        ),
        _upstream(world, MessageType.SPACE_CHANGED, [], extra={"used": 123, "capacity": 1000}),
    ]
    for envelope in envelopes:
        send(transport, routing, world.se_key, envelope)
    _drain(_consumer(world, transport, routing), len(envelopes))

    statuses = _statuses(world, world.lfns[:6])
    assert [statuses[name] for name in lost] == ["lost"] * 3
    assert statuses[bad] == "bad"
    assert statuses[world.lfns[4]] == statuses[world.lfns[5]] == "available"
    assert sorted((r.lfn, r.reason) for r in _rows(world.engine, suspicious)) == sorted(
        [(name, "lost") for name in lost] + [(bad, "corrupted")]
    )
    # a registered copy appearing is not dark data; the unknown file is
    assert [(r.se, r.path, r.size) for r in _rows(world.engine, quarantine)] == [
        (SITE, "/lhcb/dark/x.dst", 7)
    ]
    assert [(r.used, r.capacity) for r in _rows(world.engine, space)] == [(123, 1000)]
    assert counts(world.engine, "catalogue").applied == 4


def test_applying_a_message_twice_changes_nothing_the_second_time(
    world: World, transport: Transport, routing: Routing
) -> None:
    envelope = _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[0]}])
    consumer = _consumer(world, transport, routing)
    plugin = consumer.plugins[0]
    assert plugin.apply(envelope) == 1
    assert plugin.apply(envelope) == 0  # as after a crash before the acknowledgement
    # and the same message delivered twice is applied once, refused as a replay after
    send(transport, routing, world.se_key, envelope)
    send(transport, routing, world.se_key, envelope)
    _drain(consumer, 2)
    status = counts(world.engine, "catalogue")
    assert (status.applied, status.refused) == (1, {"replayed": 1})
    assert len(_rows(world.engine, suspicious)) == 1


def test_bad_messages_are_refused_counted_and_the_rest_applied(
    world: World, transport: Transport, routing: Routing, caplog: pytest.LogCaptureFixture
) -> None:
    add_user(world.engine, "mallory")  # a catalogue user without rights on /replicas
    stranger = Signer.generate(world.se_key.endpoint)  # right name, key not trusted
    good = _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[1]}])
    queue = routing.catalogue
    now = datetime.now(UTC).replace(microsecond=0)
    signed = world.se_key.sign(_upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[2]}]))
    bodies = [
        b"{not json at all",
        json.dumps({"envelope": good.to_json()}).encode(),  # no signature
        json.dumps(  # bad signature
            {
                "envelope": signed.envelope.replace("file_", "fyle_"),
                "key": signed.key,
                "signature": signed.signature,
            }
        ).encode(),
        stranger.sign(
            _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[3]}])
        ).to_bytes(),
        world.se_key.sign(
            _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[4]}], requester="mallory")
        ).to_bytes(),
        world.se_key.sign(
            _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[5]}], requester="nobody")
        ).to_bytes(),
        world.se_key.sign(
            _upstream(
                world,
                MessageType.FILE_LOST,
                [{"path": world.lfns[6]}],
                issued=now - timedelta(days=2),
                expires=now - timedelta(days=1),
            )
        ).to_bytes(),
        _unknown_type(world),
        world.se_key.sign(good).to_bytes(),
    ]
    transport.publish(queue, bodies)
    with caplog.at_level("WARNING", logger="bookkeeping.syncat.consumer"):
        _drain(_consumer(world, transport, routing), len(bodies))

    statuses = _statuses(world, world.lfns[:8])
    assert statuses[world.lfns[1]] == "lost"
    assert all(statuses[name] == "available" for name in world.lfns[2:8])
    status = counts(world.engine, "catalogue")
    assert status.applied == 1
    assert status.refused == {
        "malformed": 1,
        "bad-signature": 2,
        "untrusted-sender": 1,
        "not-allowed": 2,
        "expired": 1,
        "unknown-type": 1,
    }
    assert "untrusted-sender" in caplog.text and "not-allowed" in caplog.text


def _unknown_type(world: World) -> bytes:
    """A correctly signed envelope of a type this version does not know."""
    text = _upstream(world, MessageType.FILE_LOST, [{"path": "/x"}]).to_json()
    text = text.replace('"file_lost"', '"file_vanished"')
    signature = world.se_key.key.sign(text.encode())
    import base64

    return json.dumps(
        {
            "envelope": text,
            "key": world.se_key.public,
            "signature": base64.b64encode(signature).decode(),
        }
    ).encode()


@pytest.mark.parametrize("backend_name", ["warehouse"])
def test_the_warehouse_copies_are_marked_too(
    engine: Engine, tmp_path, transport: Transport, routing: Routing, backend_name: str
) -> None:
    world = make_world(engine, backend_name, tmp_path / "keys")
    send(
        transport,
        routing,
        world.se_key,
        _upstream(world, MessageType.FILE_LOST, [{"path": world.lfns[0]}]),
    )
    plugin = load("catalogue", PluginContext(engine, backend=backend_name))
    consumer = Consumer(engine, transport, routing.catalogue, "catalogue", [plugin])
    _drain(consumer, 1)
    assert _statuses(world, world.lfns[:1]) == {world.lfns[0]: "lost"}
