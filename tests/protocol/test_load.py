"""64 concurrent connections doing mixed reads and writes against ``bk amga serve`` in a
process of its own: no errors, no lost writes, bounded memory; and the worker pool's size."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from bookkeeping.amga_adapter.server import AmgaServer, ServerSettings
from tests.protocol.conftest import ALICE_PASSWORD, ROOT_PASSWORD
from tests.protocol.serving import resident_memory, served_by_bk

CONNECTIONS = 64
ROUNDS = 6  # the first warms the server up; memory is measured across the others
# Generous: a per-command leak of ~40 KB or a result held whole would exceed it.
MEMORY_GROWTH_BOUND = 64 * 1024 * 1024


def _user(number: int) -> tuple[str, str]:
    return ("alice", ALICE_PASSWORD) if number % 2 else ("root", ROOT_PASSWORD)


def _round(client: MDClient, number: int, seq: int) -> None:
    name = f"w{number}_{seq}"
    client.addEntry(f"/load/{name}", ["worker", "seq"], [number, seq])
    mine = client.getattr(f"/load/w{number}_*", ["seq"], sync=True) or []
    assert sorted(int(values[0] or -1) for _, values in mine) == list(range(seq + 1))
    names, _ = client.listAttr("/load")
    assert names == ["worker", "seq"]
    rows = client.selectAttr(["/load:FILE", "/load:seq"], f"/load:worker={number}", sync=True)
    assert sorted(row[0] or "" for row in rows or []) == sorted(n for n, _ in mine)
    found = client.find("/load", f"worker={number} and seq={seq}", sync=True)
    assert found == [f"/load/{name}"]


@pytest.mark.slow
def test_64_connections_mixed_reads_and_writes(catalogue: Any, tmp_path: Path) -> None:
    url = catalogue.engine.url.render_as_string(hide_password=False)
    with served_by_bk(url, tmp_path / "server.log") as (process, port):
        with MDClient("127.0.0.1", port, "root", ROOT_PASSWORD) as setup:
            setup.createDir("/load")
            setup.addAttr("/load", "worker", "int")
            setup.addAttr("/load", "seq", "int")
            setup.aclAdd("/load", "alice", "rwx")
        failures: list[BaseException] = []
        memory: dict[str, int] = {}
        start = threading.Barrier(CONNECTIONS)
        warmed = threading.Barrier(
            CONNECTIONS, action=lambda: memory.setdefault("before", resident_memory(process.pid))
        )

        def worker(number: int) -> None:
            try:
                with MDClient("127.0.0.1", port, *_user(number)) as client:
                    assert client.whoami() == _user(number)[0]
                    start.wait(timeout=120)
                    _round(client, number, 0)
                    warmed.wait(timeout=300)
                    for seq in range(1, ROUNDS):
                        _round(client, number, seq)
            except BaseException as exc:  # collected and re-raised in the test thread
                failures.append(exc)
                start.abort()
                warmed.abort()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert not failures, failures[:3]
        growth = resident_memory(process.pid) - memory["before"]
        print(f"server RSS {memory['before'] / 2**20:.1f} MiB, grew {growth / 2**20:.1f} MiB")
        assert growth < MEMORY_GROWTH_BOUND, f"server memory grew by {growth / 2**20:.1f} MiB"
        with MDClient("127.0.0.1", port, "root", ROOT_PASSWORD) as check:
            total = len(check.listEntries("/load", sync=True) or [])
        assert total == CONNECTIONS * ROUNDS
    with catalogue.engine.connect() as connection:
        table = load_directory(connection, "/load").table
        query = sa.select(table.c.owner, sa.func.count()).group_by(table.c.owner)
        owners = {owner: count for owner, count in connection.execute(query)}
    assert owners == {"root": CONNECTIONS // 2 * ROUNDS, "alice": CONNECTIONS // 2 * ROUNDS}


def test_default_worker_count_is_the_connection_pool_size(catalogue: Any) -> None:
    server = AmgaServer(catalogue, ServerSettings(port=0))
    try:
        assert server.workers == catalogue.engine.pool.size() == 10
        assert server.executor._max_workers == server.workers  # the threads really made
    finally:
        server.executor.shutdown()
    explicit = AmgaServer(catalogue, ServerSettings(port=0, workers=3))
    try:
        assert explicit.workers == 3
    finally:
        explicit.executor.shutdown()
