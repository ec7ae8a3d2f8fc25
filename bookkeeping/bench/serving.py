"""An AMGA protocol server on a free loopback port: in a thread of this process, or in a
process of its own (the benchmark's: client and server then share no interpreter lock, as
an operator runs them)."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bookkeeping.amga_adapter.server import AmgaServer, ServerSettings


@contextmanager
def loopback_server(catalogue: Any, workers: int = 8) -> Iterator[int]:
    """Serve ``catalogue`` on 127.0.0.1; yields the port; shuts down gracefully."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench-amga-loop", daemon=True)
    thread.start()
    server = AmgaServer(catalogue, ServerSettings(host="127.0.0.1", port=0, workers=workers))

    def call(coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    try:
        call(server.start(), 30)
        yield server.port
    finally:
        try:
            call(server.shutdown(), 60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


SERVER_START_TIMEOUT = 120.0


def _serve_in_process(url: str, workers: int, ports: Any, stop: Any) -> None:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue
    from bookkeeping.engines import create_engine

    engine = create_engine(url, pool_size=workers)
    try:
        with loopback_server(Catalogue(engine), workers) as port:
            ports.put(port)
            stop.wait()
    except BaseException as exc:
        ports.put(f"the protocol server process failed: {exc!r}")
        raise
    finally:
        engine.dispose()


@contextmanager
def server_process(url: str, workers: int = 8) -> Iterator[int]:
    """Serve the catalogue of ``url`` from a new process on 127.0.0.1; yields the port and
    stops the process on leaving (killed if it does not end within a minute)."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    stop = context.Event()
    process = context.Process(
        target=_serve_in_process, args=(url, workers, ports, stop), name="bench-amga", daemon=True
    )
    process.start()
    try:
        try:
            port = ports.get(timeout=SERVER_START_TIMEOUT)
        except queue.Empty:
            raise RuntimeError("the protocol server process did not start in time") from None
        if not isinstance(port, int):
            raise RuntimeError(str(port))
        yield port
    finally:
        stop.set()
        process.join(60)
        if process.is_alive():
            process.kill()
            process.join(10)


@contextmanager
def loopback_web(database_url: str, backend: str) -> Iterator[int]:
    """The web UI (``webui.create_app``) on a threaded WSGI server on 127.0.0.1."""
    from werkzeug.serving import make_server

    from webui import create_app
    from webui.state import EXTENSION_KEY

    app = create_app(
        {"DATABASE_URL": database_url, "BOOKKEEPING_BACKEND": backend, "SECRET_KEY": "bench"}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench-web", daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        app.extensions[EXTENSION_KEY].engine.dispose()  # the app made it; nobody else closes it
