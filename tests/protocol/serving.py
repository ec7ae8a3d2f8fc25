"""Running a real AMGA server in-process (its own event loop thread) for the tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bookkeeping.amga_adapter.server import AmgaServer, ServerSettings


@dataclass
class RunningServer:
    server: AmgaServer
    loop: asyncio.AbstractEventLoop

    @property
    def port(self) -> int:
        return self.server.port

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def running_server(catalogue: Any, **settings: Any) -> Iterator[RunningServer]:
    """A server on a free loopback port; shut down gracefully afterwards."""
    settings.setdefault("port", 0)
    settings.setdefault("workers", 4)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="amga-test-loop", daemon=True)
    thread.start()
    running = RunningServer(AmgaServer(catalogue, ServerSettings(**settings)), loop)
    try:
        running.call(running.server.start())
        yield running
    finally:
        try:
            running.call(running.server.shutdown(), timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
