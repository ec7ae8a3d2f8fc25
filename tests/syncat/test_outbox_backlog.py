"""The outbox's housekeeping: sent rows past the retention are pruned (unsent ones never),
the backlog (unsent rows, the oldest's age) is in ``bk syncat status`` and the relay's log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.engines import write_transaction
from bookkeeping.syncat.messages import MessageType
from bookkeeping.syncat.outbox import enqueue
from bookkeeping.syncat.relay import Relay, outbox_backlog, prune_sent
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import outbox
from bookkeeping.syncat.transport.database import DatabaseTransport
from tests.syncat.conftest import SITE, make_world


def _rows(engine: Engine, ages: list[float], sent_ages: list[float | None]) -> None:
    """Outbox rows created ``ages`` seconds ago, sent ``sent_ages`` ago (None: unsent)."""
    now = time.time()
    with write_transaction(engine) as connection:
        items = [{"path": f"/lhcb/f{i}.dst"} for i in range(len(ages))]
        enqueue(connection, MessageType.FILE_DELETED, SITE, "root", items)
        ids = list(connection.scalars(sa.select(outbox.c.id).order_by(outbox.c.id)))
        for row_id, age, sent_age in zip(ids[-len(ages) :], ages, sent_ages, strict=True):
            connection.execute(
                outbox.update()
                .where(outbox.c.id == row_id)
                .values(
                    created=now - age,
                    sent=None if sent_age is None else now - sent_age,
                    message_id=None if sent_age is None else "m",
                )
            )


def test_sent_rows_past_the_retention_are_pruned_and_the_backlog_shown(
    engine: Engine, tmp_path: Path
) -> None:
    make_world(engine, "catalogue", tmp_path / "keys", files=1)
    _rows(engine, [5000, 4000, 3000, 50, 400, 30], [4900, 3900, 2900, 10, None, None])
    assert outbox_backlog(engine).files == 2
    assert outbox_backlog(engine).oldest_age == pytest.approx(400, abs=60)
    # bounded batches: two statements of at most two rows leave one old row for next time
    import bookkeeping.syncat.relay as relay_module

    batch = relay_module.PRUNE_BATCH
    relay_module.PRUNE_BATCH = 2
    try:
        assert prune_sent(engine, retention=1000, batches=1) == 2
    finally:
        relay_module.PRUNE_BATCH = batch
    assert prune_sent(engine, retention=1000) == 1
    assert prune_sent(engine, retention=1000) == 0
    with engine.connect() as connection:
        kept = connection.execute(sa.select(outbox.c.sent.is_(None))).scalars().all()
    assert sorted(kept) == [False, True, True]  # the recent sent row and both unsent ones
    figures = counts(engine)
    assert (figures.backlog, figures.sent) == (2, 1)
    assert figures.oldest_unsent_s == pytest.approx(400, abs=60)


def test_the_relay_logs_the_backlog_and_prunes(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world(engine, "catalogue", tmp_path / "keys", files=1)
    _rows(engine, [9000, 600], [8000, None])
    relay = Relay(
        engine, DatabaseTransport(engine), world.catalogue_key, Routing("t."), retention=3600
    )
    with caplog.at_level(logging.INFO, logger="bookkeeping.syncat.relay"):
        assert relay.run_once() == 1  # housekeeping first, then the pass sends the unsent row
    assert "outbox backlog: 1 files unsent, the oldest for 6" in caplog.text
    assert "pruned 1 sent outbox rows older than 3600 s" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)  # 600 s > STALE
    assert outbox_backlog(engine).files == 0 and outbox_backlog(engine).oldest_age is None
    # the next pass within the minute does no housekeeping: nothing logged again
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bookkeeping.syncat.relay"):
        assert relay.run_once() == 0
    assert "outbox backlog" not in caplog.text
