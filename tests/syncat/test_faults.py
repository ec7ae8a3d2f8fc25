"""Faults on a RabbitMQ node of the test's own: the consumer daemon killed (-9) mid-batch,
then the broker killed (-9) and restarted while changes keep being announced. Nothing
committed is lost, nothing is applied twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.scratch import ScratchDatabase
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.routing import Routing, send
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import outbox, received, suspicious
from bookkeeping.syncat.transport import open_transport
from bookkeeping.syncat.transport.amqp import AmqpTransport
from bookkeeping.syncat.wiring import build_service
from bookkeeping.writer.changes import ReplicaKey
from tests.syncat.conftest import SITE, make_world
from tests.syncat.rabbitmq_node import RabbitNode, available, rabbitmq_node
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not available(), reason="no RabbitMQ server installed"),
]
FILES = 300  # 50 messages of 6 files; 150 removals, one message each
PER_MESSAGE = 6


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RabbitNode]:
    with rabbitmq_node(tmp_path / "rabbitmq") as started:
        yield started


WAIT_S = 120.0  # the broker restarts and redeliveries of a loaded machine


def _serve(url: str, node: RabbitNode, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "BK_DATABASE_URL": url, "BK_SYNCAT_BROKER": node.url}
    command = [str(Path(sys.executable).parent / "bk"), "syncat", "serve", "--no-relay"]
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*command, "--prefix", prefix], env=environment, stdout=sink, stderr=sink
        )


def _applied_ids(engine: Engine, endpoint: str) -> list[str]:
    r = received.c
    query = sa.select(r.message_id).where(r.endpoint == endpoint, r.outcome == "applied")
    with engine.connect() as connection:
        return list(connection.scalars(query))


def test_consumer_killed_mid_batch_then_broker_killed_mid_stream(
    backend: ScratchDatabase, engine: Engine, tmp_path: Path, node: RabbitNode
) -> None:
    world = make_world(engine, "catalogue", tmp_path / "keys", files=FILES, materialise=True)
    routing = Routing(prefix="fault.")
    transport = AmqpTransport(node.url)

    # --- 1. the consumer daemon is killed -9 in the middle of a batch -------------------
    messages = FILES // PER_MESSAGE
    for start in range(0, FILES, PER_MESSAGE):
        files = tuple({"path": name} for name in world.lfns[start : start + PER_MESSAGE])
        envelope = Envelope(MessageType.FILE_LOST, world.se_key.endpoint, "root", SITE, files)
        send(transport, routing, world.se_key, envelope)
    log = tmp_path / "serve.log"
    daemon = _serve(backend.url, node, routing.prefix, log)
    try:
        wait_until(
            lambda: counts(engine, "catalogue").applied >= messages // 5,
            "some applied",
            timeout=WAIT_S,
        )
        daemon.kill()  # SIGKILL, by PID: mid-batch (it holds up to 200 unacknowledged)
        daemon.wait(30)
        killed_at = counts(engine, "catalogue").applied
        assert killed_at < messages, "the daemon finished before it could be killed"
        daemon = _serve(backend.url, node, routing.prefix, log)
        wait_until(
            lambda: counts(engine, "catalogue").applied == messages, "all applied", timeout=WAIT_S
        )
    finally:
        daemon.kill()
        daemon.wait(30)
    applied = _applied_ids(engine, "catalogue")
    assert len(applied) == len(set(applied)) == messages  # each message applied once
    assert set(counts(engine, "catalogue").refused) <= {"replayed"}
    with engine.connect() as connection:
        reported = list(connection.scalars(sa.select(suspicious.c.lfn)))
    assert sorted(reported) == sorted(world.lfns)  # every file once
    statuses = {
        copies[0].status
        for copies in world.reader.replicas_of(
            [r.file_id for r in world.reader.files_metadata(world.lfns).found]
        ).values()
    }
    assert statuses == {"lost"}

    # --- 2. the broker is killed -9 and restarted while removals go on ---------------------
    service = build_service(
        engine,
        lambda: open_transport(node.url, engine),
        routing,
        world.key_dir,
        catalogue_plugins=(),
        ses=[SITE],
        grace=3600,
    )
    removed: list[str] = []

    def remove_all() -> None:
        for name in world.lfns[: FILES // 2]:
            world.writer.remove_replicas([name], ReplicaKey(SITE, "disk"))
            removed.append(name)

    service.start()
    remover = threading.Thread(target=remove_all)
    try:
        remover.start()
        wait_until(lambda: len(removed) >= FILES // 10, "removals under way", timeout=WAIT_S)
        node.crash()
        crashed_at = len(removed)
        # removals go on while the broker is down: their announcements wait in the outbox
        wait_until(lambda: len(removed) >= crashed_at + 20, "removals while down", timeout=WAIT_S)
        node.start()
        remover.join(300)
        gone = world.lfns[: FILES // 2]
        wait_until(
            lambda: not any((world.se_root / n.lstrip("/")).exists() for n in gone),
            timeout=180,
            what="every removed copy deleted on the SE",
        )
        wait_until(lambda: counts(engine).backlog == 0, "outbox empty", timeout=WAIT_S)
    finally:
        service.shutdown()
        transport.close()
    assert all((world.se_root / n.lstrip("/")).exists() for n in world.lfns[FILES // 2 :])
    with engine.connect() as connection:
        sent_ids = set(connection.scalars(sa.select(outbox.c.message_id)))
    applied = _applied_ids(engine, f"se:{SITE}")
    assert len(applied) == len(set(applied))  # none applied twice
    assert set(applied) == sent_ids  # every confirmed message applied
    assert set(counts(engine, f"se:{SITE}").refused) <= {"replayed"}
