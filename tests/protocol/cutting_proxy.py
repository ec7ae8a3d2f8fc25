"""A loopback TCP proxy in front of a server that can break its connections on purpose:
after the server has sent a given number of further bytes (a response cut half-way), or
all at once and for good (the server gone). Real sockets both ways; no mocks."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # so the accept loop notices close()
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._budget: int | None = None  # server->client bytes still to pass; None: all
        self._once = False
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._closed = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut_after(self, budget: int | None, *, once: bool = False) -> None:
        """Let ``budget`` more bytes from the server through, then cut the connection
        (``None``: let everything through again, on connections made from now on; ``once``:
        the same, right after this cut)."""
        with self._lock:
            self._budget = budget
            self._once = once

    def close(self) -> None:
        """Stop listening and cut every connection: the server is gone."""
        self._closed.set()
        self._listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _shut(*pair)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._pairs.append((client, server))
            for source, sink, counted in ((client, server, False), (server, client, True)):
                thread = threading.Thread(
                    target=self._pump, args=(source, sink, counted, client, server), daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        counted: bool,
        client: socket.socket,
        server: socket.socket,
    ) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    with self._lock:
                        budget = self._budget
                        if budget is not None:
                            data = data[:budget]
                            self._budget = budget - len(data)
                    if data:
                        sink.sendall(data)
                    if budget is not None and self._budget == 0:
                        with self._lock:
                            if self._once:
                                self._budget = None
                        break
                else:
                    sink.sendall(data)
        except OSError:
            pass
        _shut(client, server)


def _shut(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
