"""1..64 concurrent client processes against the AMGA protocol server and the web API on
loopback: throughput and latency percentiles of point look-ups (a file's GUID by id)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from bookkeeping.bench.callmix import Pools
from bookkeeping.bench.concurrency import run_clients
from bookkeeping.bench.data import BenchDatabase
from bookkeeping.bench.serving import loopback_web
from bookkeeping.bench.settings import BenchSettings, from_environment

SETTINGS = from_environment()
TARGETS = {
    "protocol": "AMGA protocol server",
    "web-warehouse": "web API on the warehouse",
    "web-catalogue": "web API on the catalogue",
}


@pytest.fixture(scope="module")
def web_ports(database: BenchDatabase, unavailable: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Port of the web API per implementation, or why it cannot run."""
    ports: dict[str, Any] = {}
    with ExitStack() as stack:
        for implementation in ("warehouse", "catalogue"):
            if implementation in unavailable:
                ports[implementation] = f"the {implementation} holds no data"
                continue
            try:
                ports[implementation] = stack.enter_context(
                    loopback_web(database.url, implementation)
                )
            except ImportError as exc:
                ports[implementation] = f"the web UI is not in this build ({exc})"
        yield ports


# The servers run in this process: with bk bench's --benchmark-disable-gc their cyclic
# garbage piled up over a round (13 GB after 64 clients of the web API on the catalogue).
@pytest.mark.benchmark(disable_gc=False)
@pytest.mark.parametrize("clients", SETTINGS.clients)
@pytest.mark.parametrize("target", list(TARGETS))
def test_concurrent_clients(
    benchmark: Any,
    target: str,
    clients: int,
    pools: Pools,
    database: BenchDatabase,
    settings: BenchSettings,
    unavailable: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    if target == "protocol":
        if "catalogue" in unavailable:
            pytest.skip(f"not available: the catalogue holds no data ({unavailable['catalogue']})")
        port = request.getfixturevalue("server_port")
    else:
        port = request.getfixturevalue("web_ports")[target.removeprefix("web-")]
        if isinstance(port, str):
            pytest.skip(f"not available: {port}")
    calls = settings.client_calls
    file_ids = [record.file_id for record in pools.files]
    outcome = benchmark.pedantic(
        run_clients,
        args=(target.split("-")[0], port, database.root_password, file_ids, clients, calls),
        rounds=1,
        iterations=1,
    )
    assert outcome["errors"] == 0, f"{outcome['errors']} calls failed"
    benchmark.extra_info.update(
        kind="concurrency", target=TARGETS[target], clients=clients, **outcome
    )
