"""Aggregation search: cache hit against cache miss for a search of about 10^5 files on
PostgreSQL (the kept database of ``benchmarks/aggregation_data.py``: 2 x 10^5 generated
files, half of them visible, so the empty filter answers about 10^5).

Measured at the server, in process (no network): ``SearchService.search`` (the pipeline:
query id, cache, page of 100) and the whole GraphQL execution of the same search
(``schema.execute_sync``: parse, validate, limits, resolve), on the database cache
(PostgreSQL tables) and on Redis (the machine's, a key prefix of the run's own). A miss
streams the whole response through the warehouse reader, checksums it and stores it.

Run: ``BK_TEST_POSTGRES_URL=... .venv/bin/pytest benchmarks/test_aggregation_bench.py
--benchmark-only -p no:randomly -s`` (prints p50 and p99 of every measurement).
"""

from __future__ import annotations

import os
import secrets
import statistics
from collections.abc import Iterator
from typing import Any

import pytest

from bookkeeping.aggregation.cache import DatabaseCache, RedisCache, ResponseCache, redis_client
from bookkeeping.aggregation.filters import from_mapping, query_id
from bookkeeping.aggregation.schema import AggregationContext, build_schema
from bookkeeping.aggregation.service import SearchService
from bookkeeping.engines import create_engine
from bookkeeping.scratch import server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping

pytestmark = pytest.mark.skipif(
    server_url("postgresql") is None, reason="needs BK_TEST_POSTGRES_URL"
)
REDIS_URL = os.environ.get("BK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SEARCH = {"dateFrom": "2000-01-01T00:00:00"}  # every visible file (an always-true filter)
HIT_ROUNDS = int(os.environ.get("BK_BENCH_HIT_ROUNDS", "500"))
MISS_ROUNDS = int(os.environ.get("BK_BENCH_MISS_ROUNDS", "3"))
QUERY = """query ($f: SearchFilter!) { search(filter: $f, first: 100) {
  queryId total checksum cached files { lfn size adler32 } endCursor } }"""


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    from benchmarks.aggregation_data import database_url

    made = create_engine(database_url())
    yield made
    made.dispose()


@pytest.fixture(scope="module", params=["database", "redis"])
def cache(request: pytest.FixtureRequest, engine: Any) -> Iterator[ResponseCache]:
    if request.param == "database":
        yield DatabaseCache(engine, ttl_seconds=3600)
        return
    client = redis_client(REDIS_URL)
    prefix = f"bk-bench:{secrets.token_hex(4)}:"
    yield RedisCache(client, 3600, prefix)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _percentiles(benchmark: Any, label: str) -> None:
    data = sorted(benchmark.stats.stats.data)
    p50 = statistics.median(data) * 1000
    p99 = data[min(len(data) - 1, int(len(data) * 0.99))] * 1000
    benchmark.extra_info.update(p50_ms=round(p50, 3), p99_ms=round(p99, 3), rounds=len(data))
    print(f"\n{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(data)} rounds")


def _context(service: SearchService) -> AggregationContext:
    return AggregationContext(
        user="bench",
        logged_in=False,
        reader=service.reader,
        searches=service,
        deliveries=None,
        delivery_urls=lambda token: ("", "", ""),
        on_queued=lambda row: None,
        rights=lambda path: None,
        storage_elements=list,
    )


def test_search_miss(benchmark: Any, engine: Any, cache: ResponseCache) -> None:
    service = SearchService(WarehouseBookkeeping(engine), cache)
    search = from_mapping(SEARCH)
    identifier = query_id(search)
    answers: list[Any] = []

    def forget() -> None:
        cache.forget(identifier)

    def miss() -> None:
        answers.append(service.search(search, 100))

    benchmark.pedantic(miss, setup=forget, rounds=MISS_ROUNDS, iterations=1)
    assert all(a.cache_status == "miss" for a in answers)
    assert answers[0].total >= 90_000, answers[0].total
    benchmark.extra_info["files"] = answers[0].total
    _percentiles(benchmark, f"miss ({type(cache).__name__}, {answers[0].total} files)")


def test_search_hit(benchmark: Any, engine: Any, cache: ResponseCache) -> None:
    service = SearchService(WarehouseBookkeeping(engine), cache)
    search = from_mapping(SEARCH)
    first = service.search(search, 100)  # a miss if the cache lost it, then cached
    answers: list[Any] = []

    def hit() -> None:
        answers.append(service.search(search, 100))

    benchmark.pedantic(hit, rounds=HIT_ROUNDS, iterations=1, warmup_rounds=5)
    assert all(a.cache_status == "hit" and a.checksum == first.checksum for a in answers)
    benchmark.extra_info["files"] = first.total
    _percentiles(benchmark, f"hit ({type(cache).__name__}, {first.total} files)")


def test_graphql_hit(benchmark: Any, engine: Any, cache: ResponseCache) -> None:
    service = SearchService(WarehouseBookkeeping(engine), cache)
    schema = build_schema()
    context = _context(service)
    variables = {"f": SEARCH}
    service.search(from_mapping(SEARCH), 100)
    results: list[Any] = []

    def execute() -> None:
        results.append(schema.execute_sync(QUERY, variable_values=variables, context_value=context))

    benchmark.pedantic(execute, rounds=HIT_ROUNDS, iterations=1, warmup_rounds=5)
    assert all(r.errors is None and r.data["search"]["cached"] for r in results)
    _percentiles(benchmark, f"GraphQL hit ({type(cache).__name__})")
