"""A ready delivery over WebDAV, read-only: ``/aggregation/dav/<token>/`` (mountable with
davfs2, Finder, Windows Explorer or ``rclone``, as APPDS users mount a CernVM-FS repository).

A WSGI middleware in front of the Flask app: the token is looked up in the delivery rows
(unknown, expired or not yet ready: 404, so no listing of other deliveries exists to walk),
then the request goes to a ``wsgidav`` application whose one share is that delivery's buffer
directory, read-only, anonymous (the token is the credential). The applications are kept
for the few most recent tokens.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any

from flask import Flask

from bookkeeping.aggregation.runtime import Aggregation

PREFIX = "/aggregation/dav/"
KEPT_APPS = 32

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _not_found(start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b"no such delivery, or it is not ready (it may have expired)\n"
    start_response(
        "404 Not Found",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class DavMiddleware:
    def __init__(self, app: WsgiApp, service: Aggregation) -> None:
        self.app = app
        self.service = service
        self.apps: OrderedDict[str, WsgiApp] = OrderedDict()
        self.lock = Lock()

    def _dav_app(self, token: str, root: str) -> WsgiApp:
        with self.lock:
            found = self.apps.get(token)
            if found is not None:
                self.apps.move_to_end(token)
                return found
        from wsgidav.fs_dav_provider import FilesystemProvider
        from wsgidav.wsgidav_app import WsgiDAVApp

        made = WsgiDAVApp(
            {
                "provider_mapping": {"/": FilesystemProvider(root, readonly=True)},
                "mount_path": f"{PREFIX}{token}",
                "simple_dc": {"user_mapping": {"*": True}},
                "http_authenticator": {"domain_controller": None},
                "verbose": 0,
                "logging": {"enable": False},
                "lock_storage": False,
                "property_manager": None,
                "dir_browser": {"enable": True, "response_trailer": False, "show_user": False},
            }
        )
        with self.lock:
            self.apps[token] = made
            while len(self.apps) > KEPT_APPS:
                self.apps.popitem(last=False)
        return made

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        token, _, rest = path[len(PREFIX) :].partition("/")
        delivery = self.service.deliveries.by_token(token) if token else None
        if delivery is None or delivery.state != "ready":
            return _not_found(start_response)
        self.service.deliveries.touch(delivery.id)
        root = str(self.service.deliveries.directory(delivery))
        environ = dict(environ)
        environ["PATH_INFO"] = "/" + rest
        return self._dav_app(token, root)(environ, start_response)


def mount(app: Flask, service: Aggregation) -> None:
    app.wsgi_app = DavMiddleware(app.wsgi_app, service)  # type: ignore[method-assign]
