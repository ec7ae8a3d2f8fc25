"""The random call mix: the identical seeded stream of calls over every Bookkeeping method,
through each access path. One measured run of the whole stream per path; each call is timed
alone and the per-method mean/median/p95 go to ``extra_info``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bookkeeping.bench.callmix import Call, Pools, call_stream, run_stream, statement_counter
from bookkeeping.bench.data import BenchDatabase
from bookkeeping.bench.paths import ACCESS_PATHS, AccessPath, PathNotAvailable, open_path
from bookkeeping.bench.settings import BenchSettings


@pytest.fixture(scope="module")
def calls(pools: Pools, settings: BenchSettings) -> list[Call]:
    return call_stream(pools, settings.calls, settings.seed)


# One long round with the servers of the protocol path in this process: with the collector
# off (bk bench's --benchmark-disable-gc) their cyclic garbage piles up for the whole stream.
@pytest.mark.benchmark(disable_gc=False)
@pytest.mark.parametrize("path", ACCESS_PATHS, ids=[p.name for p in ACCESS_PATHS])
def test_random_call_mix(
    benchmark: Any,
    path: AccessPath,
    calls: list[Call],
    database: BenchDatabase,
    unavailable: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    implementation = "warehouse" if path.name == "warehouse" else "catalogue"
    if implementation in unavailable:
        pytest.skip(
            f"not available: the {implementation} holds no data ({unavailable[implementation]})"
        )

    def client() -> Any:
        return request.getfixturevalue("client")

    def jdbc() -> Any:
        connect: Callable[[str], Any] = request.getfixturevalue("connect_jdbc")
        return connect("/")

    try:
        bookkeeping = open_path(path.name, database.engine, client=client, jdbc=jdbc)
    except PathNotAvailable as exc:
        pytest.skip(f"not available: {exc}")
    if path.name in ("warehouse", "catalogue"):  # in-process: their statements are counted
        with statement_counter(database.engine) as statements:
            result = benchmark.pedantic(
                run_stream, args=(bookkeeping, calls, None, statements), rounds=1, iterations=1
            )
    else:
        result = benchmark.pedantic(run_stream, args=(bookkeeping, calls), rounds=1, iterations=1)
    benchmark.extra_info.update(
        kind="call_mix",
        path=path.name,
        label=path.label,
        calls=len(calls),
        methods=result.summary(),
        error_examples={method: example for method, (_, example) in result.errors.items()},
    )
