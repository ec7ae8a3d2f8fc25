"""The AMGA protocol server: listening socket, TLS, worker threads, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import socket
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bookkeeping import __version__
from bookkeeping.amga_adapter.server.connection import Connection
from bookkeeping.amga_adapter.server.logs import logger
from bookkeeping.amga_adapter.server.sessions import SessionStore
from bookkeeping.amga_adapter.server.settings import ServerSettings

T = TypeVar("T")
_DEFAULT_WORKERS = 8


class AmgaServer:
    """Serves one Catalogue over the AMGA streaming protocol."""

    def __init__(self, catalogue: Any, settings: ServerSettings | None = None) -> None:
        self.catalogue = catalogue
        self.settings = settings or ServerSettings()
        self.identification = f"{self.settings.name} {__version__} (AMGA-compatible)"
        self.tls = _tls_context(self.settings)
        self.sessions = SessionStore(self.settings.session_ttl)
        self.workers = self.settings.workers or _pool_size(catalogue)
        self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="amga-db")
        # A streaming command keeps its database connection between batches, so at most
        # `workers` commands run at once: the pool is never drained by slow readers.
        self.db_slots = asyncio.Semaphore(self.workers)
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._stopped = False
        self.port = self.settings.port

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking catalogue work in the worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(function, *args))

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.settings.host, self.settings.port, limit=1 << 16
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("AMGA server listening on %s:%d", self.settings.host, self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = Connection(self, reader, writer)
        self._connections.add(connection)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            self._tasks.discard(task)

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight commands finish, close every connection."""
        if self._stopped:
            return
        self._stopped = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.request_stop()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        if self._server is not None:
            await self._server.wait_closed()
        await self.run(self.sessions.close)
        self.executor.shutdown(wait=True)
        logger.info("AMGA server stopped")

    async def serve_until_signalled(self) -> None:
        """Serve until SIGTERM or SIGINT, then shut down gracefully."""
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.shutdown()


def _pool_size(catalogue: Any) -> int:
    engine = getattr(catalogue, "engine", None)
    size = getattr(getattr(engine, "pool", None), "size", None)
    return int(size()) if callable(size) else _DEFAULT_WORKERS


def _tls_context(settings: ServerSettings) -> ssl.SSLContext | None:
    if settings.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    if settings.tls_ca is not None:
        context.load_verify_locations(settings.tls_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
