"""The recall daemon's Python client (the KLOE recall library's role): submit a request,
follow it until every file is answered, renew or release its pins.

The daemon is found through ``url`` or ``$BK_RECALL_URL``; the client proves who it is
with the bearer token ``token`` or ``$BK_RECALL_TOKEN`` (one of the daemon's
``[datahandling.recall_clients]``). Only the standard library's
``urllib``: a client imported by analysis jobs should pull in nothing.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bookkeeping.datahandling.errors import (
    BadRecallRequest,
    RecallRefused,
    RecallUnavailable,
    UnknownRecallRequest,
)

ENV_URL = "BK_RECALL_URL"
ENV_TOKEN = "BK_RECALL_TOKEN"


def recall_url(given: str | None = None) -> str:
    url = given or os.environ.get(ENV_URL, "")
    if not url:
        raise RecallUnavailable(f"no recall daemon named: give --recall-url or set {ENV_URL}")
    if urlsplit(url).scheme not in {"http", "https"}:
        raise RecallUnavailable(f"recall daemon URL {url!r} is not http://host:port")
    return url.rstrip("/")


def local_path(url: str) -> Path | None:
    """The local path of a ``file://`` URL (a posix recall area), else None."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


class RecallClient:
    def __init__(
        self, url: str | None = None, *, timeout: float = 30.0, token: str | None = None
    ) -> None:
        self.url = recall_url(url)
        self.timeout = timeout
        self._token = token if token is not None else os.environ.get(ENV_TOKEN, "")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        call = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(call, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            try:
                error = json.load(exc)["error"]
                message = error["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            if exc.code == 404:
                raise UnknownRecallRequest(message) from None
            if exc.code == 400:
                raise BadRecallRequest(message) from None
            if exc.code in (401, 403):
                raise RecallRefused(f"recall daemon {self.url}: {message}") from None
            raise RecallUnavailable(f"recall daemon {self.url}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RecallUnavailable(f"recall daemon {self.url} unreachable: {reason}") from None

    def submit(
        self,
        lfns: Sequence[str],
        areas: Sequence[str],
        *,
        owner: str | None = None,
        lease: int = 3600,
    ) -> dict[str, Any]:
        """``owner``: only for a client the daemon lets act on behalf of its users (the
        web UI); any other client's requests are its own."""
        body: dict[str, Any] = {"files": list(lfns), "areas": list(areas), "lease": lease}
        if owner is not None:
            body["owner"] = owner
        return self._call("POST", "/requests", body)

    def status(self, request_id: int) -> dict[str, Any]:
        return self._call("GET", f"/requests/{int(request_id)}")

    def wait(
        self, request_id: int, *, timeout: float = 3600.0, poll: float = 0.2
    ) -> dict[str, Any]:
        """Follow the request until none of its files waits (``RecallUnavailable`` after
        ``timeout`` seconds); polls at ``poll`` seconds, growing to 2 s."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(request_id)
            if status["done"]:
                return status
            if time.monotonic() >= deadline:
                raise RecallUnavailable(
                    f"recall request {request_id} not done after {timeout:g} s: "
                    f"{status['counts']['waiting']} files still waiting"
                )
            time.sleep(poll)
            poll = min(poll * 1.5, 2.0)

    def renew(self, request_id: int, lease: int) -> int:
        return int(
            self._call("POST", f"/requests/{int(request_id)}/renew", {"lease": lease})["renewed"]
        )

    def release(self, request_id: int) -> int:
        return int(self._call("DELETE", f"/requests/{int(request_id)}")["released"])

    def areas(self) -> list[dict[str, Any]]:
        return self._call("GET", "/areas")
