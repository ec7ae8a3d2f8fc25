"""Result streams give their connection back: exhausted, closed, or dropped half-read."""

from __future__ import annotations

import gc

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.catalogue import CatalogueSession


def _checked_out(engine: Engine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined]


def test_streams_release_their_connections(root: CatalogueSession, engine: Engine) -> None:
    root.createdir("/s")
    root.addattr("/s", "n", "int")
    root.addentries("/s", [(f"e{i:04d}", {"n": i}) for i in range(3000)])
    before = _checked_out(engine)
    assert sum(1 for _ in root.selectattr(["/s:n"], "")) == 3000  # exhausted
    with root.getattr("/s/*", ["n"]) as rows:  # type: ignore[attr-defined]
        next(rows)
    half_read = root.find("/s", "n > 10")
    next(half_read)
    del half_read  # dropped without close
    gc.collect()
    for _ in range(20):  # more streams than the pool holds: a leak would exhaust it
        stream = root.dir("/s")
        next(stream)
        stream.close()  # type: ignore[attr-defined]
    assert _checked_out(engine) == before


def test_streams_inside_a_transaction_see_its_writes(root: CatalogueSession) -> None:
    root.createdir("/s")
    root.begin()
    root.addentry("/s/a", {})
    rows = root.dir("/s")
    root.addentry("/s/b", {})  # the transaction's connection is free again
    assert list(rows) == [("/s/a", "entry")]
    root.commit()


def test_reads_of_a_reading_block_share_one_connection(
    root: CatalogueSession, engine: Engine
) -> None:
    root.createdir("/s")
    root.addattr("/s", "n", "int")
    root.addentries("/s", [(f"e{i}", {"n": i}) for i in range(5)])
    checkouts: list[object] = []

    def count(*args: object) -> None:
        checkouts.append(args)

    sa.event.listen(engine, "checkout", count)
    try:
        with root.reading():
            assert sorted(root.selectattr(["/s:n"], "/s:n < 3")) == [(0,), (1,), (2,)]
            assert list(root.getattr("/s/e4", ["n"])) == [("e4", [4])]
            assert [name for name, _ in root.dir("/s")] == [f"/s/e{i}" for i in range(5)]
    finally:
        sa.event.remove(engine, "checkout", count)
    assert len(checkouts) == 1
    assert _checked_out(engine) == 0
