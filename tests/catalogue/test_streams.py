"""Result streams give their connection back: exhausted, closed, or dropped half-read."""

from __future__ import annotations

import datetime as dt
import gc

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession


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


def test_batches_read_from_the_driver_equal_the_rows(
    root: CatalogueSession, engine: Engine
) -> None:
    """``take`` may hand out the driver's own tuples after its first batch (when no column
    needs a result processor): the values must be those iteration gives, on every
    back-end, time types (processed on SQLite) and NULLs included."""
    root.createdir("/t")
    for name, kind in (("n", "bigint"), ("x", "float"), ("s", "varchar(20)")):
        root.addattr("/t", name, kind)
    root.addattr("/t", "d", "timestamp")
    root.addattr("/t", "z", "time")
    root.addentries(
        "/t",
        [
            (
                f"e{i:04d}",
                {
                    "n": i,
                    "x": i / 4,
                    "s": f"v{i}" if i % 3 else None,
                    "d": dt.datetime(2012, 4, 1, 0, i % 60, i % 60, 500 * (i % 2)),
                    "z": dt.time(i % 24, i % 60),
                },
            )
            for i in range(250)
        ],
    )
    items = ["/t:n", "/t:x", "/t:s", "/t:d", "/t:z", "/t:FILE"]
    order = "order by /t:n"
    expected = list(root.selectattr(items, order))
    stream = root.selectattr(items, order)
    if engine.dialect.name == "postgresql":  # no result processor there: the fast path
        assert stream._raw is not None  # type: ignore[attr-defined]
    batches = []
    while batch := stream.take(40):  # type: ignore[attr-defined]
        batches.append(batch)
    assert [row for batch in batches for row in batch] == expected
    assert all(type(row) is tuple for batch in batches for row in batch)
    assert len(expected) == 250
