"""``bk web serve`` in production: gunicorn's pre-fork workers around the app factory.

Why gunicorn (already a dependency, the server docs/webui.md recommended) rather than
waitress: the web pages are CPU-bound Python (templates, JSON), so separate worker
processes use every core where a threaded server shares one interpreter lock; and gunicorn
is what operators of Flask applications already run and monitor. Flask's development
server remains behind ``--debug`` (reloader and debugger) only.

gunicorn refuses some requests before the application sees them (a request line over its
limit, a malformed request) with an HTML page of its own; ``JsonErrorWorker`` answers those
in our error shape (``{"status", "message", "details"}``) instead.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.http.errors import LimitRequestLine, ParseException
from gunicorn.workers.gthread import ThreadWorker

from bookkeeping.errors import ConfigError

# gunicorn's largest request line; the application refuses query strings over 8 KiB itself.
REQUEST_LINE_LIMIT = 8190


class JsonErrorWorker(ThreadWorker):  # gunicorn ships no type hints
    """gunicorn's threaded worker, answering the requests it refuses itself as JSON."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        if isinstance(exc, LimitRequestLine):
            status, reason = 414, "URI Too Long"
            message = f"the request line is longer than {REQUEST_LINE_LIMIT} bytes"
        elif isinstance(exc, ParseException):
            status, reason = 400, "Bad Request"
            message = f"malformed HTTP request ({type(exc).__name__})"
        else:  # not a refusal of the request: gunicorn logs it and answers 500
            return super().handle_error(req, client, addr, exc)
        body = json.dumps({"status": status, "message": message, "details": {}}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            client.sendall(head.encode("latin-1") + body)
        except OSError:
            pass  # the client is gone; nothing to tell it


class WebServer(BaseApplication):
    """gunicorn configured from our settings; each worker builds its own application
    (``create_app`` after the fork: no database connection crosses a fork)."""

    def __init__(
        self,
        factory: Callable[[], Any],
        options: Mapping[str, Any],
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.factory = factory
        self.options = dict(options)
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.on_ready is not None:
            ready = self.on_ready

            def when_ready(_arbiter: Arbiter) -> None:  # the sockets are bound by now
                ready()

            self.cfg.set("when_ready", when_ready)

    def load(self) -> Any:
        return self.factory()


def serve(
    factory: Callable[[], Any],
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[], None] | None = None,
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "webui.serving.JsonErrorWorker",  # gthread: a slow download does
        "threads": 4,  # not hold a whole worker
        "timeout": 120,
        "graceful_timeout": 20,
        "limit_request_line": REQUEST_LINE_LIMIT,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,
    }
    WebServer(factory, options, on_ready).run()


def check_port_free(host: str, port: int) -> None:
    """``ConfigError`` when ``host:port`` cannot be bound (in use, or not an address of
    this machine), naming the fix."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                "choose another with --port (or stop what uses it)"
            ) from None
