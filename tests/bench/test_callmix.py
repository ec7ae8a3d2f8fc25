"""The random call stream: reproducible, over every method, answerable by the warehouse."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.backends import open_writer
from bookkeeping.bench.callmix import METHODS, Pools, call_stream, run_stream, sample_pools
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Bookkeeping
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.writer.service import record_reports


@pytest.fixture
def pools(engine: Engine) -> Pools:
    list(record_reports(open_writer(engine, "warehouse"), generate_reports(60, seed=3)))
    return sample_pools(engine, seed=5, size=40)


def test_same_seed_gives_the_same_stream_and_another_seed_does_not(pools: Pools) -> None:
    assert call_stream(pools, 300, seed=1) == call_stream(pools, 300, seed=1)
    assert call_stream(pools, 300, seed=1) != call_stream(pools, 300, seed=2)


def test_stream_covers_every_bookkeeping_method(pools: Pools) -> None:
    drawn = {call.method for call in call_stream(pools, 400, seed=1)}
    assert drawn == set(METHODS)
    protocol_methods = {
        name for name in dir(Bookkeeping) if not name.startswith("_") and name in METHODS
    }
    assert protocol_methods == set(METHODS)


def test_warehouse_answers_every_call_of_the_stream(engine: Engine, pools: Pools) -> None:
    calls = call_stream(pools, 200, seed=9)
    result = run_stream(WarehouseBookkeeping(engine), calls)
    assert result.errors == {}
    summary = result.summary()
    assert sum(int(stats["calls"]) for stats in summary.values()) == 200
    assert all(stats["median_us"] > 0 for stats in summary.values())


def test_a_failing_call_is_counted_not_raised(engine: Engine, pools: Pools) -> None:
    class Broken(WarehouseBookkeeping):
        def job(self, job_id: int) -> None:  # type: ignore[override]
            raise RuntimeError("boom")

    calls = [c for c in call_stream(pools, 200, seed=9) if c.method in {"job", "file_by_id"}]
    result = run_stream(Broken(engine), calls)
    count, example = result.errors["job"]
    assert count == sum(1 for c in calls if c.method == "job")
    assert example == "RuntimeError: boom"
    assert "file_by_id" not in result.errors
