"""64 concurrent connections doing mixed reads and writes: no errors, no lost writes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bookkeeping.amga_adapter.client import MDClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.serving import running_server

CONNECTIONS = 64
WRITES_EACH = 3


@pytest.mark.slow
def test_64_connections_mixed_reads_and_writes(catalogue: Any) -> None:
    with running_server(catalogue, workers=8) as amga:
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as setup:
            setup.createDir("/load")
            setup.addAttr("/load", "worker", "int")
            setup.addAttr("/load", "seq", "int")
        failures: list[BaseException] = []
        start = threading.Barrier(CONNECTIONS)

        def worker(number: int) -> None:
            try:
                with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
                    client.whoami()
                    start.wait(timeout=60)
                    for seq in range(WRITES_EACH):
                        client.addEntry(f"/load/w{number}_{seq}", ["worker", "seq"], [number, seq])
                        mine = client.getattr(f"/load/w{number}_*", ["seq"], sync=True)
                        assert len(mine or []) == seq + 1
                        client.listAttr("/load")
            except BaseException as exc:  # collected and re-raised in the test thread
                failures.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures[:3]
        with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as check:
            total = len(check.listEntries("/load", sync=True) or [])
        assert total == CONNECTIONS * WRITES_EACH
