"""Filters, canonical forms, the search on both bookkeeping implementations, the caches."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from bookkeeping.aggregation.cache import DatabaseCache, RedisCache, redis_client
from bookkeeping.aggregation.errors import InvalidFilter
from bookkeeping.aggregation.filters import (
    SearchFilter,
    canonical,
    from_mapping,
    query_id,
)
from bookkeeping.aggregation.search import run_search
from bookkeeping.aggregation.service import SearchService
from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.engines import create_engine
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from tests.aggregation.conftest import REDIS_URL, free_port

FILTERS = [
    {"configName": "LHCb"},
    {"configName": "MC", "storage": "tape"},
    {"fileType": "RAW", "runMin": 100000, "runMax": 200000},
    {"dqFlag": "OK", "eventsMin": 1000, "sizeMax": 3_000_000_000},
    {"productionMin": 1, "productionMax": 30000, "storage": "disk"},
    {"site": "CERN"},
    {"dateFrom": "2012-01-01T00:00:00", "dateTo": "2013-01-01T00:00:00"},
]


def test_canonical_form_ignores_order_and_nulls() -> None:
    one = from_mapping({"configName": "LHCb", "runMin": 5, "fileType": None})
    two = from_mapping({"runMin": 5, "configName": "LHCb"})
    assert canonical(one) == canonical(two) == '{"filter":{"configName":"LHCb","runMin":5},"v":1}'
    assert query_id(one) == query_id(two)
    assert query_id(one) != query_id(from_mapping({"configName": "LHCb", "runMin": 6}))


def test_dates_are_normalised_before_hashing() -> None:
    plain = from_mapping({"dateFrom": "2012-05-01T12:00:00"})
    aware = from_mapping({"dateFrom": "2012-05-01T14:00:00.5+02:00"})
    assert plain.date_from == datetime(2012, 5, 1, 12, 0)
    assert query_id(plain) == query_id(aware)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"colour": "red"}, "unknown filter 'colour'"),
        ({"runMin": 9, "runMax": 3}, "inverted range: runMin 9 is after runMax 3"),
        ({"dateFrom": "yesterday"}, "dateFrom is not an ISO date-time"),
        ({"eventType": "x"}, "eventType must be an integer"),
        ({"storage": "cloud"}, "storage must be one of disk, tape"),
        ({"productionMax": 2**40}, "productionMax is above"),
    ],
)
def test_bad_filters_name_the_problem(values: dict, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message):
        from_mapping(values)


@pytest.mark.parametrize("values", FILTERS)
def test_both_implementations_answer_alike(populated_url: str, values: dict) -> None:
    engine = create_engine(populated_url)
    try:
        search = from_mapping(values)
        warehouse = run_search(WarehouseBookkeeping(engine), search)
        catalogue = run_search(CatalogueBookkeeping(engine), search)
    finally:
        engine.dispose()
    assert warehouse == catalogue
    assert warehouse.total > 0, values


def test_filters_select_what_they_say(populated_url: str) -> None:
    engine = create_engine(populated_url)
    reader = WarehouseBookkeeping(engine)
    try:
        search = SearchFilter(run_min=100000, run_max=200000, size_min=10**9)
        found = run_search(reader, search)
        records = reader.files_metadata([f.lfn for f in found.files]).found
        assert records and all(
            100000 <= r.run <= 200000 and r.size >= 10**9 and r.visible for r in records
        )
        everything = run_search(reader, SearchFilter())
        expected = [
            r.lfn
            for r in (reader.file_by_lfn(f.lfn) for f in everything.files)
            if r and r.run is not None and 100000 <= r.run <= 200000 and r.size >= 10**9
        ]
        assert [f.lfn for f in found.files] == expected
    finally:
        engine.dispose()


def test_database_cache_expires_and_sweeps(populated_url: str) -> None:
    engine = create_engine(populated_url)
    try:
        reader = WarehouseBookkeeping(engine)
        search = from_mapping({"configName": "LHCb", "sizeMin": 7})
        cache = DatabaseCache(engine, ttl_seconds=5)
        service = SearchService(reader, cache)
        identifier = query_id(search)
        cache.forget(identifier)
        assert service.search(search, 5).cache_status == "miss"
        assert service.search(search, 5).cache_status == "hit"
        deadline = time.monotonic() + 30
        while cache.contains(identifier) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not cache.contains(identifier)
        assert cache.sweep() >= 1
        assert service.search(search, 5).cache_status == "miss"
    finally:
        engine.dispose()


def test_redis_hash_fields_are_the_filters(populated_url: str, redis_prefix: str) -> None:
    engine = create_engine(populated_url)
    client = redis_client(REDIS_URL)
    try:
        cache = RedisCache(client, 60, redis_prefix)
        service = SearchService(WarehouseBookkeeping(engine), cache)
        search = from_mapping({"fileType": "RAW", "runMin": 1})
        answer = service.search(search, 3)
        assert cache.filters(answer.query_id) == {"fileType": "RAW", "runMin": "1"}
        assert client.ttl(f"{redis_prefix}q:{answer.query_id}") > 0
        hit = service.search(search, 3)
        assert hit.cached and hit.files == answer.files and hit.checksum == answer.checksum
    finally:
        client.close()
        engine.dispose()


def test_redis_down_answers_uncached(populated_url: str, tmp_path: Path) -> None:
    """A Redis of the test's own, killed by PID: searches still answer, flagged."""
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(tmp_path / "redis.log"),
        ],
    )
    engine = create_engine(populated_url)
    client = redis_client(f"redis://127.0.0.1:{port}/0")
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.02)
        service = SearchService(WarehouseBookkeeping(engine), RedisCache(client, 60, "t:"))
        search = from_mapping({"configName": "LHCb"})
        assert service.search(search, 2).cache_status == "miss"
        assert service.search(search, 2).cache_status == "hit"
        server.kill()
        server.wait(10)
        down = service.search(search, 2)
        assert down.cache_status == "unavailable" and not down.cached
        assert down.total > 0 and len(down.files) == 2
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        client.close()
        engine.dispose()
