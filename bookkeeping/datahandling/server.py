"""The recall daemon's HTTP/JSON API: a plain WSGI application (``bk recall serve`` runs it
in waitress; the core imports no web framework).

``POST /requests`` ``{"owner", "files": [LFN...], "areas": [SE...], "lease": seconds}``
answers 201 with the request's status; ``GET /requests/<id>`` its status (each file
``waiting``, ``ready`` with ``area``, ``path`` and ``url``, or ``failed`` with ``error``);
``POST /requests/<id>/renew`` ``{"lease": seconds}`` extends its pins;
``DELETE /requests/<id>`` releases them; ``GET /areas`` lists the recall areas;
``GET /health``. Errors are ``{"error": {"code", "kind", "message"}}`` with the status of
the error's kind (``bookkeeping.error_table``: 400 bad request, 401 no valid token, 403 not
the caller's request, 404 unknown request or path, 405, 503 with ``Retry-After`` while the
database is unavailable, 500 only for a bug); the message names the problem, never a
traceback.

Every ``/requests`` call needs ``Authorization: Bearer <token>`` of a configured client
(``[datahandling.recall_clients]``). The request's owner is the client's name, unless the
client is configured ``on_behalf`` (the web UI, which names the user signed in there); a
client that is not may read, renew and release only its own requests. ``/areas`` and
``/health`` need no token.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa

from bookkeeping.datahandling.config import RecallCaller
from bookkeeping.datahandling.errors import (
    BadRecallRequest,
    RecallRefused,
    UnknownRecallRequest,
)
from bookkeeping.datahandling.requests import RecallRequests, RequestStatus
from bookkeeping.db_errors import translate
from bookkeeping.error_table import RETRY_AFTER_SECONDS, http_status_of
from bookkeeping.errors import BookkeepingError
from bookkeeping.storage.registry import StorageRegistry

log = logging.getLogger(__name__)
DEFAULT_LEASE = 3600
MAX_BODY = 4 * 1024 * 1024
_REQUEST = re.compile(r"^/requests/(\d{1,18})(/renew)?$")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RecallApp:
    """The WSGI application over ``RecallRequests``; ``wake`` is called after a request is
    taken, so the daemon's worker plans it at once; ``clients`` are who may call it."""

    def __init__(
        self,
        requests: RecallRequests,
        registry: StorageRegistry,
        *,
        default_lease: int = DEFAULT_LEASE,
        wake: Callable[[], None] = lambda: None,
        clients: Sequence[RecallCaller] = (),
    ) -> None:
        self.requests = requests
        self.clients = tuple(clients)
        self.registry = registry
        self.default_lease = default_lease
        self.wake = wake
        self._urls: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            try:
                status, body = self._route(environ)
            except sa.exc.DBAPIError as exc:  # one the engine let through: by its code
                raise translate(exc, "the recall request") from None
        except _HttpError as exc:
            status = exc.status
            body = _error(exc.status, HTTPStatus(exc.status).phrase, str(exc))
        except BookkeepingError as exc:
            status = 404 if isinstance(exc, UnknownRecallRequest) else http_status_of(exc)
            if isinstance(exc, RecallRefused):  # no valid token: 401; not yours: 403
                status = 401 if str(exc).startswith(_NO_TOKEN) else 403
            body = _error(exc.code, type(exc).__name__, str(exc))
        except Exception:  # answered, logged with its traceback; the daemon goes on
            log.exception("recall API call failed")
            status, body = 500, _error(500, "InternalError", "internal error (see the log)")
        data = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="recall"'))
        if status == 503:
            headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [data]

    def _route(self, environ: dict[str, Any]) -> tuple[int, Any]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if path == "/requests":
            self._allow(method, "POST")
            caller = self._caller(environ)
            data = self._body(environ)
            status = self.requests.submit(
                _owner(caller, data.get("owner")),
                data.get("files", []),
                data.get("areas", []),
                data.get("lease", self.default_lease),
            )
            self.wake()
            return 201, self._answer(status)
        match = _REQUEST.match(path)
        if match:
            request_id = int(match.group(1))
            caller = self._caller(environ)
            current = self.requests.status(request_id)
            if current is None:
                raise UnknownRecallRequest(f"no recall request {request_id}")
            if not caller.on_behalf and current.owner != caller.name:
                raise RecallRefused(
                    f"recall request {request_id} is not yours ({caller.name}); "
                    "only its owner may read, renew or release it"
                )
            if match.group(2):
                self._allow(method, "POST")
                lease = self._body(environ).get("lease", self.default_lease)
                return 200, {
                    "request": request_id,
                    "renewed": self.requests.renew(request_id, lease),
                }
            self._allow(method, "GET", "DELETE")
            if method == "DELETE":
                return 200, {"request": request_id, "released": self.requests.release(request_id)}
            return 200, self._answer(current)
        if path == "/areas":
            self._allow(method, "GET")
            return 200, [
                {"name": r.name, "url": r.url, "site": r.site, "capacity": r.capacity}
                for r in self.registry.list(role="recall")
            ]
        if path == "/health":
            return 200, {"ok": True}
        raise _HttpError(404, f"no such resource {path}")

    def _caller(self, environ: dict[str, Any]) -> RecallCaller:
        """The configured client whose token the call carries (every token is compared,
        in constant time, so the answer's time says nothing about which one is close)."""
        scheme, _, sent = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not self.clients:
            raise RecallRefused(
                f"{_NO_TOKEN}: this recall daemon has no clients configured "
                "([datahandling.recall_clients] of its settings), so it takes no requests"
            )
        if scheme.lower() != "bearer" or not sent.strip():
            raise RecallRefused(
                f"{_NO_TOKEN}: send 'Authorization: Bearer <token>' "
                "(the client reads BK_RECALL_TOKEN)"
            )
        given = sent.strip().encode()
        found = None
        for client in self.clients:
            if hmac.compare_digest(client.token.encode(), given):
                found = client
        if found is None:
            raise RecallRefused(f"{_NO_TOKEN}: the token is not one of a configured client")
        return found

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise _HttpError(405, f"{method} not allowed here; use {' or '.join(allowed)}")

    @staticmethod
    def _body(environ: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise BadRecallRequest(f"the request body must be 0 to {MAX_BODY} bytes")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadRecallRequest("the request body is not JSON") from None
        except RecursionError:  # the parser recurses per level of nesting
            raise BadRecallRequest("the request body is nested too deeply") from None
        if not isinstance(data, dict):
            raise BadRecallRequest("the request body must be a JSON object")
        return data

    def _url(self, area: str, path: str) -> str:
        if area not in self._urls:
            record = self.registry.find(area)
            self._urls[area] = record.url.rstrip("/") if record else ""
        return self._urls[area] + path if self._urls[area] else ""

    def _answer(self, status: RequestStatus) -> dict[str, Any]:
        body = status.as_json()
        for item in body["files"]:  # type: ignore[attr-defined]
            if item.get("state") == "ready":
                item["url"] = self._url(item["area"], item["path"])
        return body


_NO_TOKEN = "not authenticated"


def _owner(caller: RecallCaller, sent: object) -> str:
    """Who owns a new request: the name the client sends when it acts for its users
    (``on_behalf``), else the client itself; naming someone else is refused."""
    if caller.on_behalf:
        if not isinstance(sent, str) or not sent:
            raise BadRecallRequest(
                f"client {caller.name} acts on behalf of its users: name the owner"
            )
        return sent
    if sent not in (None, "", caller.name):
        raise RecallRefused(
            f"client {caller.name} may ask only for itself, not on behalf of {sent!r}"
        )
    return caller.name


def _error(code: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "kind": kind, "message": message}}
